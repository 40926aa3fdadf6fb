// Reads and rewrites the DT_RUNPATH (or DT_RPATH) of a 64-bit little-endian ELF shared object in place.
//
// Why in place: node-gyp links naudiodon.node with the build machine's absolute path as its runpath. The
// replacement ($ORIGIN) is shorter, so it fits in the existing .dynstr slot and no tool (patchelf) is needed.
// The one hazard of writing into .dynstr is a linker that tail-shares strings: another name pointing into the
// middle of the old runpath. We refuse to write when any reference we can find (dynamic entries, dynamic
// symbols, version needs) points inside it.
'use strict';

const fs = require('node:fs');

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;

class ElfRunpathError extends Error {
  constructor(file, message) {
    super(`${file}: ${message}`);
    this.name = 'ElfRunpathError';
    this.file = file;
  }
}

function parse(file, buf) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new ElfRunpathError(file, 'not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) {
    throw new ElfRunpathError(file, 'only 64-bit little-endian ELF is supported (Linux x64 and arm64)');
  }
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);

  const loads = [];
  let dynamic = null;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = buf.readUInt32LE(at);
    const segment = {
      offset: Number(buf.readBigUInt64LE(at + 0x08)),
      vaddr: Number(buf.readBigUInt64LE(at + 0x10)),
      filesz: Number(buf.readBigUInt64LE(at + 0x20)),
    };
    if (type === PT_LOAD) loads.push(segment);
    if (type === PT_DYNAMIC) dynamic = segment;
  }
  if (!dynamic) throw new ElfRunpathError(file, 'no dynamic segment (statically linked?)');

  const entries = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = Number(buf.readBigInt64LE(at));
    if (tag === DT_NULL) break;
    entries.push({ tag, value: Number(buf.readBigUInt64LE(at + 8)) });
  }
  const strtab = entries.find((e) => e.tag === DT_STRTAB);
  if (!strtab) throw new ElfRunpathError(file, 'dynamic section has no string table');
  const load = loads.find((l) => strtab.value >= l.vaddr && strtab.value < l.vaddr + l.filesz);
  if (!load) throw new ElfRunpathError(file, 'string table address is outside every loaded segment');
  const strtabOffset = strtab.value - load.vaddr + load.offset;

  const sections = [];
  for (let i = 0; i < shnum && shoff > 0; i++) {
    const at = shoff + i * shentsize;
    sections.push({
      type: buf.readUInt32LE(at + 4),
      offset: Number(buf.readBigUInt64LE(at + 0x18)),
      size: Number(buf.readBigUInt64LE(at + 0x20)),
      entsize: Number(buf.readBigUInt64LE(at + 0x38)),
    });
  }
  return { entries, strtabOffset, sections };
}

function readString(buf, offset) {
  const end = buf.indexOf(0, offset);
  return buf.toString('utf8', offset, end);
}

/** Every .dynstr offset the file refers to, besides the runpath entry itself. */
function stringReferences(buf, elf, runpathEntry) {
  const refs = elf.entries
    .filter((e) => e !== runpathEntry && [DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH].includes(e.tag))
    .map((e) => e.value);
  for (const s of elf.sections) {
    if (s.type === SHT_DYNSYM && s.entsize > 0) {
      for (let at = s.offset; at + s.entsize <= s.offset + s.size; at += s.entsize) refs.push(buf.readUInt32LE(at));
    }
    if (s.type === SHT_GNU_VERNEED) {
      // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32;
      // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
      let need = s.offset;
      for (;;) {
        const count = buf.readUInt16LE(need + 2);
        refs.push(buf.readUInt32LE(need + 4));
        let aux = need + buf.readUInt32LE(need + 8);
        for (let i = 0; i < count; i++) {
          refs.push(buf.readUInt32LE(aux + 8));
          aux += buf.readUInt32LE(aux + 12);
        }
        const next = buf.readUInt32LE(need + 12);
        if (next === 0) break;
        need += next;
      }
    }
  }
  return refs;
}

function runpathEntryOf(elf) {
  return elf.entries.find((e) => e.tag === DT_RUNPATH) ?? elf.entries.find((e) => e.tag === DT_RPATH) ?? null;
}

/** The runpath (or legacy rpath) of a shared object, or null when it has none. */
function readRunpath(file) {
  const buf = fs.readFileSync(file);
  const elf = parse(file, buf);
  const entry = runpathEntryOf(elf);
  return entry ? readString(buf, elf.strtabOffset + entry.value) : null;
}

/** Rewrites the runpath within the file's string table; returns the old value. The new value must not be longer than the old one. */
function setRunpath(file, runpath) {
  const buf = fs.readFileSync(file);
  const elf = parse(file, buf);
  const entry = runpathEntryOf(elf);
  if (!entry) throw new ElfRunpathError(file, 'has no runpath to rewrite');
  const start = elf.strtabOffset + entry.value;
  const old = readString(buf, start);
  const replacement = Buffer.from(runpath, 'utf8');
  if (replacement.length > Buffer.byteLength(old)) {
    throw new ElfRunpathError(file, `new runpath "${runpath}" is longer than the old "${old}"; it cannot be rewritten in place`);
  }
  const oldEnd = entry.value + Buffer.byteLength(old);
  const shared = stringReferences(buf, elf, entry).find((ref) => ref > entry.value && ref <= oldEnd);
  if (shared !== undefined) {
    throw new ElfRunpathError(file, `another name shares the tail of runpath "${old}"; rewriting it in place would corrupt that name`);
  }
  buf.fill(0, start, start + Buffer.byteLength(old));
  replacement.copy(buf, start);
  // Write a new file and rename it over the old: the packager may have hard-linked the output to the build
  // tree's copy, and writing in place would rewrite node_modules too.
  const temp = `${file}.runpath-${process.pid}`;
  fs.writeFileSync(temp, buf, { mode: fs.statSync(file).mode });
  fs.renameSync(temp, file);
  return old;
}

module.exports = { readRunpath, setRunpath, ElfRunpathError };
