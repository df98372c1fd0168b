"""Stage 2, index: the engines and the build steps producing the typed Edition (docs/ARCHITECTURE.md)."""
