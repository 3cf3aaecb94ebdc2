package devstack

// MinIOPID exposes the MinIO child's pid to the external tests; 0 when MinIO
// was reused rather than started.
func MinIOPID(s *Stack) int {
	if s.minio == nil {
		return 0
	}
	return s.minio.pid
}
