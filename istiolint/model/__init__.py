"""The mesh model: namespaces, workloads, Services and the security policies that apply."""
