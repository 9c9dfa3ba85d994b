import { maxBytes, maxU32 } from "../../src/lattices/max";
import { minF64 } from "../../src/lattices/min";
import { lexicographicPair, productLattice } from "../../src/lattices/pair";
import { utf8 } from "./helpers";

describe("pairs", () => {
  const lexicographic = lexicographicPair(maxU32, maxBytes);

  it("lets the strictly greater first part win whole", () => {
    const a = { first: 2, second: utf8("a") };
    const b = { first: 1, second: utf8("z") };
    expect(lexicographic.join(a, b)).toBe(a);
    expect(lexicographic.join(b, a)).toBe(a);
  });

  it("joins the second parts on equal first parts, reusing a side when it is the result", () => {
    const a = { first: 2, second: utf8("a") };
    const b = { first: 2, second: utf8("b") };
    expect(lexicographic.join(a, b)).toBe(b);
    expect(lexicographic.join(a, { first: 2, second: utf8("a") })).toBe(a);
  });

  it("orders min by the reversed order", () => {
    const priority = lexicographicPair(minF64, maxBytes);
    const low = { first: -1, second: utf8("a") };
    expect(priority.join({ first: 3, second: utf8("z") }, low)).toBe(low);
    expect(minF64.join(minF64.bottom, 5)).toBe(5);
  });

  it("joins a product part by part", () => {
    const product = productLattice(maxU32, maxU32);
    const a = { first: 1, second: 5 };
    expect(product.join(a, { first: 3, second: 2 })).toEqual({ first: 3, second: 5 });
    expect(product.join(a, product.bottom)).toBe(a);
  });
});
