import { describe, expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import { parseRange } from "./download.ts";

describe("Range header of a download", () => {
  test("a start, a start and an end, a suffix; an end past the file is cut to it", () => {
    expect(parseRange("bytes=100-", 1000)).toEqual({ start: 100, end: 999 });
    expect(parseRange("bytes=0-99", 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange("bytes=-10", 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange("bytes=-5000", 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange("bytes=900-5000", 1000)).toEqual({ start: 900, end: 999 });
  });

  test("none, several ranges or another unit: the whole file", () => {
    expect(parseRange(null, 1000)).toBeNull();
    expect(parseRange("bytes=0-1,5-6", 1000)).toBeNull();
    expect(parseRange("items=0-1", 1000)).toBeNull();
    expect(parseRange("bytes=-", 1000)).toBeNull();
  });

  test("past the end, backwards or an empty suffix → 416 RANGE_NOT_SATISFIABLE with the size", () => {
    for (const bad of ["bytes=1000-", "bytes=5-2", "bytes=-0"]) {
      let err: unknown;
      try {
        parseRange(bad, 1000);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status: 416, code: "RANGE_NOT_SATISFIABLE", details: { size: 1000 } });
    }
  });
});
