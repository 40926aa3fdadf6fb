# Our PortAudio binding (see src/partyline_portaudio.c for why it exists beside naudiodon's).
# It compiles against the PortAudio header naudiodon ships and links the libportaudio naudiodon ships, so the
# process holds one PortAudio (one device list, one init count).
# The runpath is relative: from native/portaudio/build/Release, four levels up is the project root in the build
# tree and app.asar.unpacked in the packaged app, and in both naudiodon's build/Release holds libportaudio.so.2.
# Only the plain C N-API is used: the .node is ABI-stable across Node and Electron.
{
  "targets": [
    {
      "target_name": "partyline_portaudio",
      "sources": ["src/partyline_portaudio.c"],
      "include_dirs": ["../include", "../../node_modules/naudiodon/portaudio/include"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden", "-std=c11"],
      "conditions": [
        ["OS=='linux'", {
          "libraries": ["<(module_root_dir)/../../node_modules/naudiodon/build/Release/libportaudio.so.2", "-ldl"],
          "ldflags": ["-Wl,-rpath,'$$ORIGIN/../../../../node_modules/naudiodon/build/Release'"],
        }],
        ["OS=='mac'", {
          "libraries": ["<(module_root_dir)/../../node_modules/naudiodon/build/Release/libportaudio.dylib", "-Wl,-rpath,@loader_path/../../../../node_modules/naudiodon/build/Release"],
        }],
        ["OS=='win'", {
          "libraries": ["<(module_root_dir)/../../node_modules/naudiodon/portaudio/bin/portaudio_x64.lib"],
        }],
      ],
    },
  ],
}
