import { createSocket } from "node:dgram";
import { ToolboxError } from "./types.ts";

/** The Wake-on-LAN magic packet: six 0xFF bytes, then the MAC sixteen times (102 bytes). */
export function magicPacket(mac: string): Buffer {
  const bytes = Buffer.from(mac.replaceAll(":", ""), "hex");
  if (bytes.length !== 6) throw new ToolboxError("INVALID_MAC", `not a MAC address: ${mac}`);
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array.from({ length: 16 }, () => bytes)]);
}

/**
 * Sends each MAC's magic packet by UDP to each subnet-directed broadcast address (the relaying
 * agent and the sleeping machine share that subnet). Resolves with the number of datagrams sent.
 */
export async function sendWake(macs: readonly string[], broadcasts: readonly string[], port: number): Promise<number> {
  const socket = createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, () => {
        socket.setBroadcast(true);
        resolve();
      });
    });
    let sent = 0;
    for (const mac of macs) {
      const packet = magicPacket(mac);
      for (const address of broadcasts) {
        await new Promise<void>((resolve, reject) => socket.send(packet, port, address, (err) => (err ? reject(err) : resolve())));
        sent++;
      }
    }
    return sent;
  } catch (err) {
    if (err instanceof ToolboxError) throw err;
    throw new ToolboxError("WAKE_FAILED", `could not send the magic packet: ${(err as Error).message}`);
  } finally {
    socket.close();
  }
}
