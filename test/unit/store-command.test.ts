// How `orch store` prints values: text when they are UTF-8 (JSON is what orch writes), else base64.
import { describe, expect, it } from 'vitest';
import { formatValue } from '../../cmd/commands/store';

describe('orch store value printing', () => {
  it('prints UTF-8 JSON as it is stored', () => {
    const json = JSON.stringify({ kind: 'Pod', metadata: { name: 'café' } });
    expect(formatValue(Buffer.from(json))).toBe(json);
  });

  it('prints plain UTF-8 text as text', () => {
    expect(formatValue(Buffer.from('hello\tworld\n'))).toBe('hello\tworld\n');
  });

  it('prints bytes that are not UTF-8, or control characters, as base64', () => {
    const proto = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x09, 0xff, 0xfe]); // Kubernetes protobuf starts "k8s\0"
    expect(formatValue(proto)).toBe(`base64:${proto.toString('base64')}`);
    expect(formatValue(Buffer.from('a\u0001b'))).toBe(`base64:${Buffer.from('a\u0001b').toString('base64')}`);
  });
});
