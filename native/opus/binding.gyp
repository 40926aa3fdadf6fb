# Our Opus binding compiles the libopus source that @discordjs/opus ships.
# Its deps/binding.gyp is *included* (not depended on): gyp then re-roots the
# libopus target's sources and include_dirs onto this file, so every generated
# file and object stays under native/opus/build. (As a cross-file dependency,
# gyp would write libopus.target.mk to native/node_modules/ instead.)
# Only the plain C N-API is used: the .node is ABI-stable across Node and Electron.
{
  "includes": ["../../node_modules/@discordjs/opus/deps/binding.gyp"],
  "targets": [
    {
      "target_name": "partyline_opus",
      "dependencies": ["libopus"],
      "sources": ["src/partyline_opus.c"],
      "include_dirs": ["../include", "../../node_modules/@discordjs/opus/deps/opus/include"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "conditions": [
        # Keep libopus's symbols private, so they can never clash with the copy
        # inside @discordjs/opus or Electron in the same process.
        ["OS=='linux'", {"ldflags": ["-Wl,--exclude-libs,ALL"]}],
      ],
    },
  ],
}
