// duplicateJsonKeys: the strict-decoding scan for repeated keys (runs on every JSON write).
import { describe, expect, it } from 'vitest';
import { duplicateJsonKeys } from '../../server/apiserver/body';

describe('duplicateJsonKeys', () => {
  it('finds nothing in objects without repeats', () => {
    expect(duplicateJsonKeys('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"1"}},"data":{"a":"b"}}')).toEqual([]);
    expect(duplicateJsonKeys('{}')).toEqual([]);
    expect(duplicateJsonKeys('[]')).toEqual([]);
    expect(duplicateJsonKeys(' { "a" : [ 1 , 2.5e3 , true , null , { } , [ ] ] } ')).toEqual([]);
  });

  it('names each repeat by its path, nested objects and list items included', () => {
    expect(duplicateJsonKeys('{"data":{},"data":{}}')).toEqual(['data']);
    expect(duplicateJsonKeys('{"metadata":{"name":"a","labels":{},"name":"b"}}')).toEqual(['metadata.name']);
    expect(duplicateJsonKeys('{"spec":{"containers":[{"name":"a"},{"name":"b","image":"x","image":"y"}]}}')).toEqual(['spec.containers[1].image']);
    expect(duplicateJsonKeys('{"a":1,"b":2,"a":3,"a":4}')).toEqual(['a', 'a']);
    expect(duplicateJsonKeys('{"m":[[{"k":1,"k":2}]]}')).toEqual(['m[0][0].k']);
  });

  it('compares keys by their decoded value, escapes included', () => {
    expect(duplicateJsonKeys('{"a\\u0062":1,"ab":2}')).toEqual(['ab']);
    expect(duplicateJsonKeys('{"q\\"x":1,"q\\"x":2,"s":"}\\\\"}')).toEqual(['q"x']);
    expect(duplicateJsonKeys('{"v":"a,b}]\\" \\n","v":1}')).toEqual(['v']);
    expect(duplicateJsonKeys(JSON.stringify({ 'é✓': 1, 'x y': { 'z.z': 2 } }).replace('}}', ',"z.z":3}}'))).toEqual(['x y.z.z']);
  });

  it('ends on malformed input without hanging', () => {
    for (const t of ['{', '{"a"', '{"a":', '[', '[1,', '{"a":1,"a"', '{]', '"unterminated', '[:]', '']) {
      expect(Array.isArray(duplicateJsonKeys(t))).toBe(true);
    }
    expect(duplicateJsonKeys('{"a":1,"a":')).toEqual(['a']);
  });
});
