# ===
# The Node.js addon: the netlite amalgamation (one translation unit, generated
# from native/src by tools/amalgamate.js) plus the N-API glue in native/addon.
# The modular tree is never compiled here; CMakeLists.txt builds it for tests.
#
# Compile-time switches mirror CMakeLists.txt:
#   NETLITE_USE_OPENBLAS  when `pkg-config --exists openblas` (force with NETLITE_OPENBLAS=0|1)
# No -m<isa> flags: SIMD kernels are chosen at run time.
# ===
{
  "variables": {
    "netlite_openblas%": "<!(node tools/detect-openblas.js)",
  },
  "targets": [
    {
      "target_name": "netlite",
      # native/amalgamation/netlite.cc comes from the "amalgamate" action below
      # (process_outputs_as_sources), so make knows to generate it before compiling it.
      "sources": [
        "native/addon/addon.cc",
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include",
      ],
      "defines": [
        "NAPI_VERSION=8",
        # C++ exceptions everywhere: the engine throws internally (caught at the C
        # API) and the addon lets node-addon-api turn Napi::Error into JS errors.
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        # A run settling while its Worker terminates must not abort the process.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
      ],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags": ["-O2", "-fvisibility=hidden", "-fexceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-fvisibility=hidden", "-fvisibility-inlines-hidden", "-fexceptions", "-frtti"],
      "actions": [
        {
          "action_name": "amalgamate",
          "inputs": ["<!@(node tools/amalgamate.js --list)"],
          "outputs": [
            "native/amalgamation/netlite.cc",
          ],
          "process_outputs_as_sources": 1,
          "action": ["node", "tools/amalgamate.js"],
          "message": "Generating the netlite amalgamation",
        },
      ],
      "conditions": [
        ["netlite_openblas==1", {
          "defines": ["NETLITE_USE_OPENBLAS"],
          "include_dirs": ["<!@(node tools/detect-openblas.js --include-dirs)"],
          "libraries": ["<!@(node tools/detect-openblas.js --libs)"],
        }],
        ["OS=='linux'", {
          # Keep OpenBLAS, libstdc++ and engine internals out of the .node's dynamic symbols.
          "ldflags": [
            "-pthread",
            "-Wl,--exclude-libs,ALL",
            "-Wl,--version-script=<(module_root_dir)/native/addon/exports.map",
          ],
          "cflags": ["-pthread"],
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "GCC_ENABLE_CPP_RTTI": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "GCC_OPTIMIZATION_LEVEL": "2",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
          },
        }],
        ["OS=='win'", {
          "msvs_settings": {
            "VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"]},
          },
        }],
      ],
      "configurations": {
        "Release": {
          "conditions": [
            ["OS=='linux'", {"ldflags": ["-s"]}],
            ["OS=='mac'", {"xcode_settings": {"DEAD_CODE_STRIPPING": "YES", "OTHER_LDFLAGS": ["-Wl,-x"]}}],
          ],
        },
      },
    },
  ],
}
