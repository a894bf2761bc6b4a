{
  "targets": [
    {
      "target_name": "strata_native",
      "sources": [
        "native/src/addon.cc",
        "<!@(node scripts/native-calls.mjs --sources)",
        "native/src/buffer.cc",
        "native/src/dnnl_util.cc",
        "native/src/elementwise.cc",
        "native/src/reduce.cc",
        "native/src/movement.cc",
        "native/src/strided_copy.cc",
        "native/src/matmul.cc",
        "native/src/conv.cc",
        "native/src/abs_bound.cc",
        "native/src/weight_cache.cc",
        "native/src/pool.cc",
        "native/src/softmax.cc",
        "native/src/random.cc",
        "native/src/optimizer.cc",
        "native/src/recurrent.cc",
        "native/src/recurrent_sequence.cc",
        "native/src/normalization.cc",
        "native/src/conv_pool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_EXPERIMENTAL", "NAPI_CPP_EXCEPTIONS", "<!@(node scripts/detect-openmp.mjs --defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fopenmp", "-fexceptions", "-Werror=switch"],
      "libraries": ["<!@(node scripts/detect-openmp.mjs --libs)", "-ldnnl"],
      "variables": { "with_mpi": "<!(node scripts/detect-mpi.mjs --found)" },
      "conditions": [
        ["with_mpi==1", {
          "sources": ["native/src/mpi.cc"],
          "cflags_cc": ["<!@(node scripts/detect-mpi.mjs --cflags)"],
          "libraries": ["<!@(node scripts/detect-mpi.mjs --libs)"]
        }, {
          "sources": ["native/src/mpi_absent.cc"]
        }]
      ]
    }
  ]
}
