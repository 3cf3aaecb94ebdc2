// Package k8s holds Colophon's Kubernetes manifests, as kustomize directories: base/ (the
// workers and their KEDA ScaledObject), components/minio-init/ (an optional MinIO setup Job)
// and overlays/example/. It has no code: its test builds each kustomization in-process,
// decodes every object strictly into its Kubernetes API type, and checks what the deployment
// depends on. See README.md.
package k8s
