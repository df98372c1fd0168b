"""Stage 1, sources: everything that opens a raw DfE file or a registry file (docs/ARCHITECTURE.md)."""
