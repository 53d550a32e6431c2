/**
 * An LZMA and BCJ2 decoder in C# for the Windows installer: Windows PowerShell 5.1 unpacks only gzip,
 * and the `tar.exe` of Windows 10 and Server 2019/2022 is built without liblzma, so install.ps1
 * compiles this with `Add-Type` (the .NET Framework's C# compiler, on every Windows) and unpacks the
 * agent's `.bcj2` copy (scripts/lib/bcj2.ts: 7-Zip's BCJ2 filter for x86 code with LZMA on its
 * streams, a third of the binary instead of half with gzip). Written here from the LZMA
 * specification (lzma-specification.txt in Igor Pavlov's public-domain LZMA SDK: the "LZMA alone"
 * header, the range decoder, literal/match/rep states) and the algorithm of 7-Zip's BCJ2 decoder
 * (public domain). The tests compile this very text with Debian's mono `mcs` and check it against
 * `xz`'s and `7zz`'s output (server/enrollment/lzma-decoder.test.ts).
 *
 * `SentpulseLzma.DecodeBcj2(inPath, outPath)` (and `Decode` for "LZMA alone") returns the bytes
 * written and throws InvalidDataException on a damaged stream; it writes no more than the header's
 * size and never more than 1 GiB, and refuses a dictionary above 1 GiB (a hostile header cannot make
 * it allocate more).
 */
export const LZMA_DECODER_CS = `using System;
using System.IO;

public static class SentpulseLzma
{
    const long MaxOutput = 1L << 30;
    const int kNumStates = 12, kMatchMinLen = 2, kEndPosModelIndex = 14, kNumFullDistances = 128, kNumAlignBits = 4;

    sealed class Window
    {
        readonly byte[] buf; readonly Stream output; int pos; bool full; public long Total;
        public Window(uint size, Stream output) { buf = new byte[size]; this.output = output; }
        public void Put(byte b)
        {
            if (Total == MaxOutput) throw new InvalidDataException("LZMA: more than 1 GiB of output");
            buf[pos++] = b; Total++;
            if (pos == buf.Length) { output.Write(buf, 0, pos); pos = 0; full = true; }
        }
        public byte Get(uint dist) { int i = (int)(pos - dist); if (i < 0) i += buf.Length; return buf[i]; }
        public bool Has(uint dist) { return full || dist <= (uint)pos; }
        public bool Empty { get { return !full && pos == 0; } }
        public void Flush() { output.Write(buf, 0, pos); pos = 0; }
    }

    sealed class RangeDecoder
    {
        readonly Stream input; uint range = 0xFFFFFFFF, code;
        public RangeDecoder(Stream input)
        {
            this.input = input;
            if (Next() != 0) throw new InvalidDataException("LZMA: bad range coder start");
            for (int i = 0; i < 4; i++) code = (code << 8) | Next();
            if (code == range) throw new InvalidDataException("LZMA: bad range coder start");
        }
        byte Next() { int b = input.ReadByte(); if (b < 0) throw new InvalidDataException("LZMA: stream cut short"); return (byte)b; }
        void Normalize() { if (range < (1u << 24)) { range <<= 8; code = (code << 8) | Next(); } }
        public bool FinishedOk { get { return code == 0; } }
        public uint Bit(ushort[] p, int i)
        {
            uint bound = (range >> 11) * p[i];
            uint bit;
            if (code < bound) { p[i] += (ushort)((2048 - p[i]) >> 5); range = bound; bit = 0; }
            else { p[i] -= (ushort)(p[i] >> 5); code -= bound; range -= bound; bit = 1; }
            Normalize();
            return bit;
        }
        public uint Direct(int n)
        {
            uint res = 0;
            do
            {
                range >>= 1; code -= range;
                uint t = 0u - (code >> 31);
                code += range & t;
                if (code == range) throw new InvalidDataException("LZMA: corrupted direct bits");
                Normalize();
                res = (res << 1) + (t + 1);
            } while (--n > 0);
            return res;
        }
        public uint Tree(ushort[] p, int offset, int bits)
        {
            uint m = 1;
            for (int i = 0; i < bits; i++) m = (m << 1) + Bit(p, offset + (int)m);
            return m - (1u << bits);
        }
        public uint Reverse(ushort[] p, int offset, int bits)
        {
            uint m = 1, sym = 0;
            for (int i = 0; i < bits; i++) { uint b = Bit(p, offset + (int)m); m = (m << 1) + b; sym |= b << i; }
            return sym;
        }
    }

    static ushort[] Probs(int n) { var p = new ushort[n]; for (int i = 0; i < n; i++) p[i] = 1024; return p; }

    sealed class Lengths
    {
        readonly ushort[] choice = Probs(2), low = Probs(16 << 3), mid = Probs(16 << 3), high = Probs(1 << 8);
        public uint Decode(RangeDecoder rc, int posState)
        {
            if (rc.Bit(choice, 0) == 0) return rc.Tree(low, posState << 3, 3);
            if (rc.Bit(choice, 1) == 0) return 8 + rc.Tree(mid, posState << 3, 3);
            return 16 + rc.Tree(high, 0, 8);
        }
    }

    public static long Decode(string inPath, string outPath)
    {
        using (var input = new BufferedStream(File.OpenRead(inPath), 1 << 16))
        using (var output = new BufferedStream(File.Create(outPath), 1 << 16))
            return Decode(input, output);
    }

    /// "SPXB" (scripts/lib/bcj2.ts): 7-Zip's BCJ2 filter with LZMA on its streams. The CALL and JMP
    /// targets (call and jump streams) and the range coder's decisions come first and are unpacked
    /// to memory; the main stream, last, is unpacked through the filter straight to the file.
    public static long DecodeBcj2(string inPath, string outPath)
    {
        using (var input = new BufferedStream(File.OpenRead(inPath), 1 << 16))
        using (var output = new BufferedStream(File.Create(outPath), 1 << 16))
        {
            var h = ReadExactly(input, 4 + 1 + 8 + 3 * 21 + 8, "SPXB header");
            if (h[0] != (byte)'S' || h[1] != (byte)'P' || h[2] != (byte)'X' || h[3] != (byte)'B' || h[4] != 1)
                throw new InvalidDataException("SPXB: not a BCJ2 agent package");
            long size = (long)Math.Min(BitConverter.ToUInt64(h, 5), (ulong)MaxOutput + 1);
            if (size > MaxOutput) throw new InvalidDataException("SPXB: more than 1 GiB of output");
            var parts = new ulong[3, 2];
            for (int i = 0; i < 3; i++)
            {
                parts[i, 0] = BitConverter.ToUInt64(h, 13 + 21 * i + 5);
                parts[i, 1] = BitConverter.ToUInt64(h, 13 + 21 * i + 13);
                if (parts[i, 0] > (ulong)MaxOutput || parts[i, 1] > (ulong)MaxOutput) throw new InvalidDataException("SPXB: a stream out of range");
            }
            ulong rcSize = BitConverter.ToUInt64(h, 13 + 63);
            if (rcSize > (ulong)MaxOutput) throw new InvalidDataException("SPXB: a stream out of range");
            var streams = new byte[2][];
            for (int i = 0; i < 2; i++)
            {
                var packed = ReadExactly(input, (long)parts[i, 1], "SPXB stream");
                var unpacked = new MemoryStream();
                DecodeRaw(new MemoryStream(packed), unpacked, h[13 + 21 * i], BitConverter.ToUInt32(h, 13 + 21 * i + 1), parts[i, 0]);
                streams[i] = unpacked.ToArray();
            }
            var rc = ReadExactly(input, (long)rcSize, "SPXB range coder");
            var bcj2 = new Bcj2Output(output, streams[0], streams[1], rc, size);
            DecodeRaw(input, bcj2, h[13 + 42], BitConverter.ToUInt32(h, 13 + 42 + 1), parts[2, 0]);
            bcj2.Finish();
            return size;
        }
    }

    /// BCJ2 in the decoding direction, fed the main stream: after each E8 (CALL), E9 (JMP) or 0F 8x
    /// (Jcc) a bit from the range coder says whether its 32-bit target was moved out; if so the absolute
    /// big-endian target comes from the call (E8) or jump stream and is written back relative to the
    /// end of the instruction. Written from the algorithm of 7-Zip's Bcj2 decoder (public domain);
    /// the tests check it against Debian's 7zz.
    sealed class Bcj2Output : Stream
    {
        readonly Stream inner;
        readonly byte[] call, jump, rc;
        readonly long size;
        readonly ushort[] probs = new ushort[2 + 256];
        readonly byte[] four = new byte[4];
        int callPos, jumpPos, rcPos;
        uint range = 0xFFFFFFFF, code;
        long outPos;
        byte prev;

        public Bcj2Output(Stream inner, byte[] call, byte[] jump, byte[] rc, long size)
        {
            this.inner = inner; this.call = call; this.jump = jump; this.rc = rc; this.size = size;
            for (int i = 0; i < probs.Length; i++) probs[i] = 1024;
            if (rc.Length < 5 || rc[0] != 0) throw new InvalidDataException("BCJ2: bad range coder start");
            for (rcPos = 1; rcPos < 5; rcPos++) code = (code << 8) | rc[rcPos];
            if (code == 0xFFFFFFFF) throw new InvalidDataException("BCJ2: bad range coder start");
        }

        bool Bit(int i)
        {
            if (range < (1u << 24))
            {
                if (rcPos == rc.Length) throw new InvalidDataException("BCJ2: range coder stream cut short");
                range <<= 8; code = (code << 8) | rc[rcPos++];
            }
            uint p = probs[i], bound = (range >> 11) * p;
            if (code < bound) { range = bound; probs[i] = (ushort)(p + ((2048 - p) >> 5)); return false; }
            range -= bound; code -= bound; probs[i] = (ushort)(p - (p >> 5));
            return true;
        }

        public override void Write(byte[] data, int offset, int count)
        {
            int start = offset, end = offset + count;
            for (int i = offset; i < end; i++)
            {
                byte b = data[i];
                if (outPos + (i - start) + 1 > size) throw new InvalidDataException("BCJ2: more data than the package says");
                bool jcc = prev == 0x0F && (b & 0xF0) == 0x80;
                if ((b & 0xFE) != 0xE8 && !jcc) { prev = b; continue; }
                // the opcode and everything before it go out as they are
                inner.Write(data, start, i + 1 - start);
                outPos += i + 1 - start;
                start = i + 1;
                if (outPos == size) { prev = b; continue; }
                if (!Bit(b == 0xE8 ? 2 + prev : b == 0xE9 ? 1 : 0)) { prev = b; continue; }
                byte[] src = b == 0xE8 ? call : jump;
                int at = b == 0xE8 ? callPos : jumpPos;
                if (at + 4 > src.Length) throw new InvalidDataException("BCJ2: call or jump stream cut short");
                uint dest = (uint)((src[at] << 24) | (src[at + 1] << 16) | (src[at + 2] << 8) | src[at + 3]) - (uint)(outPos + 4);
                if (b == 0xE8) callPos += 4; else jumpPos += 4;
                four[0] = (byte)dest; four[1] = (byte)(dest >> 8); four[2] = (byte)(dest >> 16); four[3] = (byte)(dest >> 24);
                int n = (int)Math.Min(4, size - outPos);
                inner.Write(four, 0, n);
                outPos += n;
                prev = four[3];
            }
            inner.Write(data, start, end - start);
            outPos += end - start;
        }

        public void Finish()
        {
            if (outPos != size) throw new InvalidDataException("BCJ2: less data than the package says");
            inner.Flush();
        }

        public override void Flush() { inner.Flush(); }
        public override bool CanRead { get { return false; } }
        public override bool CanSeek { get { return false; } }
        public override bool CanWrite { get { return true; } }
        public override long Length { get { throw new NotSupportedException(); } }
        public override long Position { get { throw new NotSupportedException(); } set { throw new NotSupportedException(); } }
        public override int Read(byte[] b, int o, int c) { throw new NotSupportedException(); }
        public override long Seek(long o, SeekOrigin s) { throw new NotSupportedException(); }
        public override void SetLength(long v) { throw new NotSupportedException(); }
    }


    static byte[] ReadExactly(Stream input, long n, string what)
    {
        if (n < 0 || n > MaxOutput) throw new InvalidDataException(what + ": size out of range");
        var b = new byte[n];
        for (int got = 0, k; got < n; got += k)
            if ((k = input.Read(b, got, (int)n - got)) <= 0) throw new InvalidDataException(what + ": cut short");
        return b;
    }

    public static long Decode(Stream input, Stream output)
    {
        var header = ReadExactly(input, 13, "LZMA header");
        return DecodeRaw(input, output, header[0], BitConverter.ToUInt32(header, 1), BitConverter.ToUInt64(header, 5));
    }

    /// An LZMA stream without a header: properties byte, dictionary size, and the unpacked size
    /// (ulong.MaxValue: unknown, the stream ends with its end marker).
    static long DecodeRaw(Stream input, Stream output, int d, uint dictSize, ulong size)
    {
        if (d >= 9 * 5 * 5) throw new InvalidDataException("LZMA: bad properties");
        int lc = d % 9, lp = (d / 9) % 5, pb = d / 45;
        if (dictSize > (1u << 30)) throw new InvalidDataException("LZMA: dictionary above 1 GiB");
        if (dictSize < 4096) dictSize = 4096;
        bool sized = size != ulong.MaxValue;
        if (sized && size > (ulong)MaxOutput) throw new InvalidDataException("LZMA: more than 1 GiB of output");

        var win = new Window(dictSize, output);
        var rc = new RangeDecoder(input);
        var literals = Probs(0x300 << (lc + lp));
        ushort[] isMatch = Probs(kNumStates << 4), isRep = Probs(kNumStates), isRepG0 = Probs(kNumStates),
            isRepG1 = Probs(kNumStates), isRepG2 = Probs(kNumStates), isRep0Long = Probs(kNumStates << 4),
            posSlot = Probs(4 << 6), posSpecial = Probs(1 + kNumFullDistances - kEndPosModelIndex), align = Probs(1 << kNumAlignBits);
        var lens = new Lengths();
        var repLens = new Lengths();
        uint rep0 = 0, rep1 = 0, rep2 = 0, rep3 = 0;
        int state = 0;
        byte prev = 0;
        uint pbMask = (1u << pb) - 1, lpMask = (1u << lp) - 1;

        while (true)
        {
            if (sized && (ulong)win.Total == size && rc.FinishedOk) break;
            int posState = (int)((uint)win.Total & pbMask);
            if (rc.Bit(isMatch, (state << 4) + posState) == 0)
            {
                if (sized && (ulong)win.Total >= size) throw new InvalidDataException("LZMA: data after the end");
                int lit = 0x300 * (int)((((uint)win.Total & lpMask) << lc) + ((uint)prev >> (8 - lc)));
                uint sym = 1;
                if (state >= 7)
                {
                    uint matchByte = win.Get(rep0 + 1);
                    do
                    {
                        uint matchBit = (matchByte >> 7) & 1;
                        matchByte <<= 1;
                        uint bit = rc.Bit(literals, lit + (int)(((1 + matchBit) << 8) + sym));
                        sym = (sym << 1) | bit;
                        if (matchBit != bit) break;
                    } while (sym < 0x100);
                }
                while (sym < 0x100) sym = (sym << 1) | rc.Bit(literals, lit + (int)sym);
                prev = (byte)(sym - 0x100);
                win.Put(prev);
                state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
                continue;
            }
            uint len;
            if (rc.Bit(isRep, state) != 0)
            {
                if (win.Empty) throw new InvalidDataException("LZMA: repeat before any data");
                if (rc.Bit(isRepG0, state) == 0)
                {
                    if (rc.Bit(isRep0Long, (state << 4) + posState) == 0)
                    {
                        if (sized && (ulong)win.Total >= size) throw new InvalidDataException("LZMA: data after the end");
                        state = state < 7 ? 9 : 11;
                        prev = win.Get(rep0 + 1);
                        win.Put(prev);
                        continue;
                    }
                }
                else
                {
                    uint dist;
                    if (rc.Bit(isRepG1, state) == 0) dist = rep1;
                    else
                    {
                        if (rc.Bit(isRepG2, state) == 0) dist = rep2;
                        else { dist = rep3; rep3 = rep2; }
                        rep2 = rep1;
                    }
                    rep1 = rep0; rep0 = dist;
                }
                len = repLens.Decode(rc, posState);
                state = state < 7 ? 8 : 11;
            }
            else
            {
                rep3 = rep2; rep2 = rep1; rep1 = rep0;
                len = lens.Decode(rc, posState);
                state = state < 7 ? 7 : 10;
                uint lenState = len < 3 ? len : 3;
                uint slot = rc.Tree(posSlot, (int)(lenState << 6), 6);
                if (slot < 4) rep0 = slot;
                else
                {
                    int direct = (int)(slot >> 1) - 1;
                    uint dist = (2 | (slot & 1)) << direct;
                    if (slot < kEndPosModelIndex) dist += rc.Reverse(posSpecial, (int)(dist - slot), direct);
                    else dist += (rc.Direct(direct - kNumAlignBits) << kNumAlignBits) + rc.Reverse(align, 0, kNumAlignBits);
                    rep0 = dist;
                }
                if (rep0 == 0xFFFFFFFF)
                {
                    if (!rc.FinishedOk || (sized && (ulong)win.Total != size)) throw new InvalidDataException("LZMA: bad end marker");
                    break;
                }
                if (rep0 >= dictSize || !win.Has(rep0 + 1)) throw new InvalidDataException("LZMA: distance beyond the data");
            }
            len += kMatchMinLen;
            if (sized && size - (ulong)win.Total < len) throw new InvalidDataException("LZMA: data after the end");
            for (uint i = 0; i < len; i++) { prev = win.Get(rep0 + 1); win.Put(prev); }
        }
        win.Flush();
        output.Flush();
        return win.Total;
    }
}
`;
