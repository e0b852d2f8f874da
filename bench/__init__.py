"""Benchmarks of fastasgi: parser micro-benchmarks and end-to-end HTTP throughput."""
