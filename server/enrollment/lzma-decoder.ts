/**
 * An LZMA decoder in C# for the Windows installer: Windows PowerShell 5.1 unpacks only gzip, and the
 * `tar.exe` of Windows 10 and Server 2019/2022 is built without liblzma, so install.ps1 compiles this
 * with `Add-Type` (the .NET Framework's C# compiler, on every Windows) and unpacks the agent's `.lzma`
 * copy (`xz --format=lzma -9`: a third of the binary instead of half with gzip). Written here from
 * the LZMA specification (lzma-specification.txt in Igor Pavlov's public-domain LZMA SDK): the
 * "LZMA alone" header (properties byte, dictionary size, uncompressed size or -1 with an end
 * marker), the range decoder, literal/match/rep states. The tests compile this very text with
 * Debian's mono `mcs` and check it against `xz`'s output (server/enrollment/lzma-decoder.test.ts).
 *
 * `SentpulseLzma.Decode(inPath, outPath)` returns the bytes written and throws InvalidDataException
 * on a damaged stream; it writes no more than the header's size and never more than 1 GiB, and
 * refuses a dictionary above 1 GiB (a hostile header cannot make it allocate more).
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

    public static long Decode(Stream input, Stream output)
    {
        var header = new byte[13];
        for (int got = 0, n; got < 13; got += n)
            if ((n = input.Read(header, got, 13 - got)) <= 0) throw new InvalidDataException("LZMA: header cut short");
        int d = header[0];
        if (d >= 9 * 5 * 5) throw new InvalidDataException("LZMA: bad properties");
        int lc = d % 9, lp = (d / 9) % 5, pb = d / 45;
        uint dictSize = BitConverter.ToUInt32(header, 1);
        if (dictSize > (1u << 30)) throw new InvalidDataException("LZMA: dictionary above 1 GiB");
        if (dictSize < 4096) dictSize = 4096;
        ulong size = BitConverter.ToUInt64(header, 5);
        bool sized = size != ulong.MaxValue;

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
