package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
)

// ErrUnreadable is returned (wrapped) by Get when the store holds an object but cannot give
// its bytes back while it serves reads otherwise: its copy on disk is damaged (MinIO found
// bitrot in it). Retrying does not mend it; healing it, or restoring it from a copy, does.
var ErrUnreadable = errors.New("object unreadable in the store")

// healthTimeout bounds one health probe: MinIO answers it from memory.
const healthTimeout = 5 * time.Second

// objectFault reports a failed read in which the store blames the object rather than its
// load or its reachability. MinIO answers SlowDownRead ("Resource requested is unreadable,
// please reduce your request rate", 503) when too few drives give back an object's parts
// intact (a flipped byte in a part, on one drive); InternalError (500) when its xl.meta
// fails its CRC; and a body it cannot finish is cut short. Each may also be a passing fault
// (drives offline, a server killed mid-body), so unreadable decides. Throttling (SlowDown),
// refused connections and timeouts are not object faults.
func objectFault(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	return resp.Code == "SlowDownRead" || resp.Code == "InternalError" || resp.StatusCode == http.StatusInternalServerError
}

// unreadable decides what a read that failed with an object fault (err) means. If the
// store says it can serve reads, the object is read once more (once: minio-go has already
// tried ten times in a few seconds on a 5xx): a fault that persists while the store is well is the
// object's own, ErrUnreadable, which no retry mends. If the store cannot say it is well (it
// is not MinIO, or drives are offline), err is returned as it is, to be retried.
func (s *Store) unreadable(ctx context.Context, bucket, key string, err error) (Object, error) {
	if !s.readable(ctx) {
		return Object{}, err
	}
	obj, err := get(ctx, s.once, bucket, key)
	if err == nil || !objectFault(err) || !s.readable(ctx) {
		return obj, err
	}
	return Object{}, fmt.Errorf("%w: %w", ErrUnreadable, err)
}

// readable reports whether MinIO says every erasure set has read quorum (its cluster read
// health endpoint answers 200): enough drives are online to read any intact object.
func (s *Store) readable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/minio/health/cluster/read", nil)
	if err != nil {
		return false
	}
	resp, err := s.health.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
