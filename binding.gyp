{
  "targets": [
    {
      "target_name": "mpcache_kernels",
      "sources": [
        "kernels/native/addon.cc",
        "kernels/native/aes-soft.cc",
        "kernels/native/arith.cc",
        "kernels/native/bits.cc",
        "kernels/native/cpu.cc",
        "kernels/native/fixed.cc",
        "kernels/native/matmul.cc",
        "kernels/native/napi-args.cc",
        "kernels/native/prg.cc",
        "kernels/native/rss.cc",
        "kernels/native/shift.cc"
      ],
      "include_dirs": [ "<!(node -p \"require('node-addon-api').include_dir\")" ],
      "defines": [ "NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS" ],
      "cflags!": [ "-O2", "-O0", "-fno-exceptions" ],
      "cflags_cc!": [ "-O2", "-O0", "-fno-exceptions", "-std=gnu++17", "-std=gnu++1y" ],
      "cflags": [ "-O3", "-ffp-contract=off" ],
      "cflags_cc": [ "-O3", "-std=c++17", "-ffp-contract=off", "-Wall", "-Wextra", "-Wno-unused-parameter" ],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": [ "-ffp-contract=off" ]
      }
    }
  ]
}
