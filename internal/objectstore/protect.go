package objectstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"
)

// Lock modes of S3 object lock. Governance: nobody deletes or shortens a locked version
// without the special bypass permission. Compliance: nobody at all, root included, until the
// retention ends.
const (
	LockGovernance = "governance"
	LockCompliance = "compliance"
)

// Protection is how a bucket keeps what is written to it.
type Protection struct {
	// Versioning keeps every version of an object: a rewrite or a delete leaves the earlier
	// version in place.
	Versioning bool
	// LockMode, when set, makes the bucket write-once (S3 object lock, which implies
	// versioning): every version is kept for LockDays from its writing.
	LockMode string
	LockDays uint
}

// EnsureProtectedBucket creates bucket with p if it does not exist, and turns on what it can
// of p if it does. An S3 service without object lock, or a bucket made before without it
// (object lock can only be chosen when a bucket is created), gets versioning only: the note
// says so, for the caller to log. A bucket that exists keeps the lock it has.
func (s *Store) EnsureProtectedBucket(ctx context.Context, bucket string, p Protection) (note string, err error) {
	exists, err := s.client.BucketExists(ctx, bucket)
	if err != nil {
		return "", fmt.Errorf("check bucket %s: %w", bucket, err)
	}
	if !exists {
		err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{ObjectLocking: p.LockMode != ""})
		if err != nil && p.LockMode != "" && !alreadyExists(err) {
			note = fmt.Sprintf("bucket %s: created without object lock, which the S3 service refused (%v)", bucket, err)
			err = s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
		}
		if err != nil && !alreadyExists(err) {
			return "", fmt.Errorf("create bucket %s: %w", bucket, err)
		}
	}
	if p.LockMode != "" {
		enabled, mode, days, err := s.ObjectLock(ctx, bucket)
		switch {
		case accessDenied(err):
			// A least-privilege worker: the deployment's setup job protects the buckets.
			return fmt.Sprintf("bucket %s: cannot read its object lock (access denied); the setup job sets it", bucket), nil
		case err != nil:
			return "", err
		case !enabled && note == "":
			note = fmt.Sprintf("bucket %s has no object lock (it was created without it; S3 only turns it on when a bucket is made): versioning only", bucket)
		case enabled && mode == "":
			m := minio.Governance
			if p.LockMode == LockCompliance {
				m = minio.Compliance
			}
			unit := minio.Days
			if err := s.client.SetObjectLockConfig(ctx, bucket, &m, &p.LockDays, &unit); err != nil {
				return "", fmt.Errorf("set object lock retention on %s: %w", bucket, err)
			}
		case enabled && (mode != p.LockMode || days != p.LockDays):
			note = fmt.Sprintf("bucket %s keeps its object lock retention (%s, %d days), not the %s, %d days asked for", bucket, mode, days, p.LockMode, p.LockDays)
		}
	}
	if p.Versioning || p.LockMode != "" {
		on, err := s.Versioned(ctx, bucket)
		if err == nil && !on {
			err = s.client.EnableVersioning(ctx, bucket)
		}
		if accessDenied(err) {
			return fmt.Sprintf("bucket %s: cannot check or turn on versioning (access denied); the setup job sets it", bucket), nil
		}
		if err != nil {
			return note, fmt.Errorf("turn on versioning for %s: %w", bucket, err)
		}
	}
	return note, nil
}

func accessDenied(err error) bool {
	return err != nil && minio.ToErrorResponse(err).Code == "AccessDenied"
}

// ObjectLock reads a bucket's object lock: whether it is on, and its default retention (mode
// "" when it has none).
func (s *Store) ObjectLock(ctx context.Context, bucket string) (enabled bool, mode string, days uint, err error) {
	state, m, validity, unit, err := s.client.GetObjectLockConfig(ctx, bucket)
	if err != nil {
		code := minio.ToErrorResponse(err).Code
		if code == "ObjectLockConfigurationNotFoundError" || strings.Contains(err.Error(), "Object Lock configuration does not exist") {
			return false, "", 0, nil
		}
		return false, "", 0, fmt.Errorf("read object lock of %s: %w", bucket, err)
	}
	enabled = state == "Enabled"
	if m != nil {
		mode = strings.ToLower(string(*m))
	}
	if validity != nil {
		days = *validity
		if unit != nil && *unit == minio.Years {
			days *= 365
		}
	}
	return enabled, mode, days, nil
}

// Versioned reports whether a bucket keeps every version of its objects.
func (s *Store) Versioned(ctx context.Context, bucket string) (bool, error) {
	v, err := s.client.GetBucketVersioning(ctx, bucket)
	if err != nil {
		return false, fmt.Errorf("read versioning of %s: %w", bucket, err)
	}
	return v.Enabled(), nil
}

func alreadyExists(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists"
}
