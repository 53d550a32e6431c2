import { type } from "arktype";
import {
  ACCOUNT_NAME_PATTERN,
  ACL_IDENTITY_PATTERN,
  ACL_INHERITANCE,
  ACL_RIGHTS_PATTERN,
  FILE_PATH_PATTERN,
  MAX_CHUNK_BASE64,
  MAX_ACL_ENTRIES,
  MAX_CHUNK_BYTES,
  MAX_LIST_ENTRIES,
  MAX_NAME_CHARS,
} from "./files-limits.ts";

export * from "./files-limits.ts";

/**
 * The file explorer on the wire: what the server asks of an agent in a `files` call frame (answered
 * by a `result` frame) and the shapes of the answers. Paths have a strict pattern (absolute, no `..`
 * segment, no control character), checked by the server's routes and again by the agent, which also
 * resolves them with realpath and refuses a symlink that leads out of the operation's directory.
 * `elevated: false` (the default everywhere) runs the operation as an unprivileged account.
 */

export const FilePath = type(new RegExp(FILE_PATH_PATTERN)).configure({
  description: "an absolute path on the device (at most 4,096 characters; no `..` segment, NUL or control character)",
});
export const AccountName = type(new RegExp(ACCOUNT_NAME_PATTERN)).configure({
  description: "a user or group name (letters, digits, _ . -, at most 32) or a numeric id",
});
const AclIdentity = type(new RegExp(ACL_IDENTITY_PATTERN)).configure({
  description: "a Windows account: NAME, DOMAIN\\NAME or *S-1-… (no `:`, parentheses or commas)",
});
const AclRights = type(new RegExp(ACL_RIGHTS_PATTERN)).configure({
  description: "icacls rights: F, M, RX, R, W or D, or a comma list of specific rights (e.g. RD,RA,REA)",
});
const AclInheritance = type
  .enumerated(...ACL_INHERITANCE)
  .array()
  .atMostLength(4);
/** An ACL change on Windows (icacls): grant or deny rights to an account, or remove its entries. */
export const AclChange = type({ action: "'grant' | 'deny'", identity: AclIdentity, rights: AclRights, "inheritance?": AclInheritance }).or({
  action: "'remove'",
  identity: AclIdentity,
});
export type AclChange = typeof AclChange.infer;
const Sha256 = type(/^[0-9a-f]{64}$/);
const Base64 = type(new RegExp(`^[A-Za-z0-9+/]{0,${MAX_CHUNK_BASE64}}={0,2}$`));
const transferId = "string.uuid";
const offset = "number.integer >= 0";

/** What a `files` call asks of the agent, by `op`. */
export const FilesRequest = type({ op: "'list'", path: FilePath, elevated: "boolean", hidden: "boolean" })
  /** `acl`: with the access control list (Windows: icacls; Linux: POSIX ACLs by getfacl where it exists). */
  .or({ op: "'stat'", path: FilePath, elevated: "boolean", "acl?": "boolean" })
  .or({ op: "'count'", path: FilePath, elevated: "boolean" })
  .or({ op: "'mkdir'", path: FilePath, elevated: "boolean" })
  /** Rename or move (across file systems: copied, then removed). */
  .or({ op: "'move'", path: FilePath, to: FilePath, overwrite: "boolean", elevated: "boolean" })
  .or({ op: "'copy'", path: FilePath, to: FilePath, overwrite: "boolean", elevated: "boolean" })
  .or({ op: "'delete'", path: FilePath, recursive: "boolean", elevated: "boolean" })
  .or({ op: "'chmod'", path: FilePath, mode: "0 <= number.integer <= 4095", elevated: "boolean" })
  .or({ op: "'chown'", path: FilePath, "owner?": AccountName, "group?": AccountName, elevated: "boolean" })
  /** Windows: an ACL change by icacls (an argument vector, never a shell string). */
  .or({ op: "'acl'", path: FilePath, change: AclChange, elevated: "boolean" })
  /** One chunk of a download; `size` and `mtime` are what the first stat said (a file that changed since is refused). */
  .or({
    op: "'read'",
    transferId,
    path: FilePath,
    offset,
    length: `1 <= number.integer <= ${MAX_CHUNK_BYTES}`,
    size: offset,
    mtime: "number",
    elevated: "boolean",
  })
  /** The size of an upload's partial file beside its target (0 when none): where to resume. */
  .or({ op: "'write_status'", transferId, path: FilePath, overwrite: "boolean", elevated: "boolean" })
  /**
   * One chunk of an upload, written at `offset` of the partial file (which must be that long). `data`
   * is the chunk in base64; absent when the bytes travel as the payload of a binary message
   * (protocol/binary.ts: only to agents whose `hello` said `binaryChunks`).
   */
  .or({ op: "'write'", transferId, path: FilePath, offset, "data?": Base64, elevated: "boolean" })
  /** The upload is whole: its SHA-256 and size are checked, then the partial file takes the target's name. */
  .or({ op: "'write_commit'", transferId, path: FilePath, size: offset, sha256: Sha256, overwrite: "boolean", elevated: "boolean" })
  .or({ op: "'write_abort'", transferId, path: FilePath, elevated: "boolean" });
export type FilesRequest = typeof FilesRequest.infer;

export const EntryType = type("'file' | 'dir' | 'link' | 'other'");
export type EntryType = typeof EntryType.infer;

export const FileEntry = type({
  name: `string <= ${MAX_NAME_CHARS}`,
  type: EntryType,
  size: "number >= 0",
  /** Epoch ms. */
  mtime: "number",
  /** Permission bits and set-id/sticky bits (0…0o7777). */
  mode: "number.integer >= 0",
  owner: "string <= 256",
  group: "string <= 256",
  /** A symlink's target as written, and what it leads to. */
  "target?": "string <= 4096",
  "targetType?": "'file' | 'dir' | 'missing' | 'other'",
});
export type FileEntry = typeof FileEntry.infer;

export const FileList = type({
  /** The listed directory as resolved on the device. */
  path: "string <= 4096",
  items: FileEntry.array().atMostLength(MAX_LIST_ENTRIES),
  truncated: "boolean",
  /** The account the agent acted as. */
  runAs: "string <= 256",
});
export type FileList = typeof FileList.infer;

/** One entry of a Windows ACL as icacls lists it. */
export const WindowsAce = type({
  identity: "string <= 512",
  type: "'allow' | 'deny'",
  /** icacls' codes: one simple right (F, M, RX, R, W, D, N) or specific ones (RD, WD, GR, …). */
  rights: type("string <= 16").array().atMostLength(32),
  /** In words: "Full control", "Read & execute", "Read data, Write data". */
  summary: "string <= 512",
  inherited: "boolean",
  /** OI, CI, IO, NP. */
  inheritance: type("'OI' | 'CI' | 'IO' | 'NP'").array().atMostLength(4),
});
export type WindowsAce = typeof WindowsAce.infer;

/** One entry of a POSIX ACL as getfacl lists it. */
export const PosixAce = type({
  tag: "'user' | 'group' | 'mask' | 'other'",
  /** The named user or group; null for the owner's, the owning group's, mask and other. */
  qualifier: "string <= 256 | null",
  perms: /^[r-][w-][x-]$/,
  /** What the mask leaves of it, when less. */
  effective: type(/^[r-][w-][x-]$/).or("null"),
  /** A default entry of a directory (what new entries inside get). */
  default: "boolean",
});
export type PosixAce = typeof PosixAce.infer;

export const FileAcl = type({
  kind: "'windows' | 'posix'",
  /** Windows: the owner (Get-Acl). */
  owner: "string <= 512 | null",
  windows: WindowsAce.array().atMostLength(MAX_ACL_ENTRIES),
  posix: PosixAce.array().atMostLength(MAX_ACL_ENTRIES),
});
export type FileAcl = typeof FileAcl.infer;

export const FileStat = type({
  path: "string <= 4096",
  /** The path with every symlink resolved (null for a dangling link). */
  realPath: "string <= 4096 | null",
  entry: FileEntry,
  atime: "number",
  ctime: "number",
  birthtime: "number | null",
  uid: "number.integer",
  gid: "number.integer",
  runAs: "string <= 256",
  /** When asked for: the entry's ACL (null where the device has none to show, e.g. Linux without getfacl, macOS). */
  "acl?": FileAcl.or("null"),
  /** Why the ACL could not be read (the rest of the properties stand). */
  "aclError?": "string <= 1024",
});
export type FileStat = typeof FileStat.infer;

export const FileCount = type({ files: offset, dirs: offset, links: offset, bytes: "number >= 0" });
export type FileCount = typeof FileCount.infer;

/** Entries a change touched (a recursive delete or copy counts every file, directory and link). */
export const FileOpResult = type({ entries: offset });
export type FileOpResult = typeof FileOpResult.infer;

export const ReadChunk = type({
  /** The bytes in base64; absent when they came as the payload of a binary message (protocol/binary.ts). */
  "data?": Base64,
  /** True when the chunk ends the file; `sha256` (of the whole file, computed as it was read) comes with it. */
  eof: "boolean",
  "sha256?": Sha256,
});
export type ReadChunk = typeof ReadChunk.infer;

/** Bytes the partial file holds (after a write: its new length). */
export const WriteOffset = type({ offset });
export type WriteOffset = typeof WriteOffset.infer;

export const WriteDone = type({ size: offset, sha256: Sha256 });
export type WriteDone = typeof WriteDone.infer;
