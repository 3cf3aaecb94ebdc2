package objectstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/notification"
)

// GetVersion reads one version of an object whole (the latest when versionID is "" or
// "null", S3's name for the version of an unversioned write), at most maxBytes of it: a
// bigger object is an error naming its size, read no further.
func (s *Store) GetVersion(ctx context.Context, bucket, key, versionID string, maxBytes int64) (Object, error) {
	opts := minio.GetObjectOptions{}
	if versionID != "" && versionID != "null" {
		opts.VersionID = versionID
	}
	obj, err := s.client.GetObject(ctx, bucket, key, opts)
	if err != nil {
		return Object{}, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return Object{}, fmt.Errorf("get %s/%s: %w", bucket, key, notFound(err))
	}
	if info.Size > maxBytes {
		return Object{}, fmt.Errorf("get %s/%s: %w: %d bytes, over the %d-byte limit", bucket, key, ErrTooLarge, info.Size, maxBytes)
	}
	var buf bytes.Buffer
	buf.Grow(int(info.Size))
	if _, err := io.Copy(&buf, io.LimitReader(obj, maxBytes+1)); err != nil {
		return Object{}, fmt.Errorf("read %s/%s: %w", bucket, key, notFound(err))
	}
	if int64(buf.Len()) > maxBytes {
		return Object{}, fmt.Errorf("get %s/%s: %w: over the %d-byte limit", bucket, key, ErrTooLarge, maxBytes)
	}
	return Object{Data: buf.Bytes(), ContentType: info.ContentType, Metadata: decodeMeta(info.UserMetadata)}, nil
}

// ErrTooLarge is returned (wrapped) by GetVersion for an object over its limit.
var ErrTooLarge = errors.New("object too large")

// EnsureObjectCreatedNotification has bucket send its s3:ObjectCreated:* events to the
// notification target arn (e.g. MinIO's "arn:minio:sqs::ID:nats"), keeping its other
// notifications; added is false when it already did. The server must know the target: MinIO
// refuses an ARN it has no target for.
func (s *Store) EnsureObjectCreatedNotification(ctx context.Context, bucket, arn string) (added bool, err error) {
	cfg, err := s.client.GetBucketNotification(ctx, bucket)
	if err != nil {
		return false, fmt.Errorf("read notifications of %s: %w", bucket, err)
	}
	for _, q := range cfg.QueueConfigs {
		if q.Queue != arn || (q.Filter != nil && len(q.Filter.S3Key.FilterRules) > 0) {
			continue
		}
		for _, ev := range q.Events {
			if ev == notification.ObjectCreatedAll {
				return false, nil
			}
		}
	}
	a, err := notification.NewArnFromString(arn)
	if err != nil {
		return false, fmt.Errorf("notification target %q: %w", arn, err)
	}
	qc := notification.NewConfig(a)
	qc.AddEvents(notification.ObjectCreatedAll)
	cfg.AddQueue(qc)
	if err := s.client.SetBucketNotification(ctx, bucket, cfg); err != nil {
		return false, fmt.Errorf("send %s events to %s: %w", bucket, arn, err)
	}
	return true, nil
}
