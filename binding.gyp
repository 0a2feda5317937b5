# The native part of the media plane's batched socket I/O (docs/media.md, "Batched socket I/O").
# Built by `npm ci` (package.json "install"); a failed or skipped build leaves the product on
# node:dgram (MEDIA_SOCKET_IO=auto).
{
  "targets": [
    {
      "target_name": "udp_batch",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/udp-batch/udp-batch.cc"],
          "cflags_cc": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
