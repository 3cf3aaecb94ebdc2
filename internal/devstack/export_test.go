package devstack

// MinIOPID exposes the MinIO child's pid to the external tests; 0 when MinIO
// was reused rather than started.
func MinIOPID(s *Stack) int { return s.MinIOPID() }

// LockDataDir takes a data directory's lock as Start does, for tests of who holds it.
func LockDataDir(dir string) (release func(), err error) {
	l, err := lockDataDir(dir)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}
