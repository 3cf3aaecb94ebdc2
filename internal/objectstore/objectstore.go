// Package objectstore is Colophon's adapter to S3-compatible storage (MinIO in practice).
// It speaks in whole objects with a SHA-256 in their metadata, which is all the pipeline needs.
package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Store is a connection to one S3 endpoint.
type Store struct {
	client *minio.Client
	// once is client without minio-go's own retries, for the read that confirms an object
	// unreadable (health.go): client has just spent ten attempts on it.
	once *minio.Client
	// health asks MinIO's health endpoint over the client's own transport (health.go).
	health   *http.Client
	endpoint string // scheme://host
}

type options struct {
	region  string
	rootCAs *x509.CertPool
}

// Option configures New.
type Option func(*options)

// WithRegion sets the S3 region (MinIO ignores it; AWS needs it).
func WithRegion(region string) Option { return func(o *options) { o.region = region } }

// WithRootCAs makes an https endpoint's certificate verified against pool instead of the
// system roots: for a server whose certificate a private CA signed. It is an error with an
// http endpoint, where there is no certificate to verify.
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.rootCAs = pool } }

// New connects to endpoint, a URL such as http://127.0.0.1:9000 or https://s3.example.org.
// The scheme decides TLS. No request is made until the first call. Credentials in the
// endpoint URL are not used, and never repeated in an error.
func New(endpoint, accessKey, secretKey string, opts ...Option) (*Store, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		shown := "(unparsable)" // it may hold credentials: not repeated
		if err == nil {
			if u.User != nil {
				u.User = url.User("xxxxx")
			}
			shown = u.String()
		}
		return nil, fmt.Errorf("S3 endpoint %q: want http://host:port or https://host:port", shown)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	secure := u.Scheme == "https"
	mo := &minio.Options{
		Creds:  credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure: secure,
		Region: o.region,
	}
	if o.rootCAs != nil && !secure {
		return nil, fmt.Errorf("S3 endpoint %s is http: a CA bundle is only for https", u.Host)
	}
	// minio-go's own default, made here so the health probe shares it.
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("S3 transport for %s: %w", u.Host, err)
	}
	mo.Transport = tr
	if secure {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if o.rootCAs != nil {
			tr.TLSClientConfig.RootCAs = o.rootCAs
		}
		mo.Transport = unknownAuthorityTransport{tr}
	}
	c, err := minio.New(u.Host, mo)
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", u.Host, err)
	}
	mo1 := *mo
	mo1.MaxRetries = 1
	once, err := minio.New(u.Host, &mo1)
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", u.Host, err)
	}
	return &Store{client: c, once: once, health: &http.Client{Transport: mo.Transport, Timeout: healthTimeout}, endpoint: u.Scheme + "://" + u.Host}, nil
}

// unknownAuthorityTransport makes a certificate from an unknown authority fail the call at
// once. minio-go means not to retry that error, but it looks for x509.UnknownAuthorityError
// itself, and Go now wraps it in *tls.CertificateVerificationError: without this, every
// call to a server whose CA is not trusted retried for about ten seconds before failing.
type unknownAuthorityTransport struct{ http.RoundTripper }

func (t unknownAuthorityTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.RoundTripper.RoundTrip(r)
	var ua x509.UnknownAuthorityError
	if err != nil && errors.As(err, &ua) {
		return nil, ua
	}
	return resp, err
}

// EnsureBuckets creates any bucket that does not exist yet.
func (s *Store) EnsureBuckets(ctx context.Context, buckets ...string) error {
	for _, b := range buckets {
		ok, err := s.client.BucketExists(ctx, b)
		if err != nil {
			return fmt.Errorf("check bucket %s: %w", b, err)
		}
		if ok {
			continue
		}
		if err := s.client.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			// Another process may have created it between our check and our call.
			if resp := minio.ToErrorResponse(err); resp.Code == "BucketAlreadyOwnedByYou" || resp.Code == "BucketAlreadyExists" {
				continue
			}
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

// CheckBuckets returns an error naming the first bucket that does not exist or cannot be reached.
func (s *Store) CheckBuckets(ctx context.Context, buckets ...string) error {
	for _, b := range buckets {
		ok, err := s.client.BucketExists(ctx, b)
		if err != nil {
			return fmt.Errorf("check bucket %s: %w", b, err)
		}
		if !ok {
			return fmt.Errorf("bucket %s does not exist", b)
		}
	}
	return nil
}

// Object is a stored object read whole.
type Object struct {
	Data        []byte
	ContentType string
	ETag        string            // the version read, for PutIfMatch
	Metadata    map[string]string // user metadata, canonical keys without the X-Amz-Meta- prefix, decoded
}

// SHA256 hashes data the way Colophon records checksums: lowercase hex.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Put stores data under bucket/key with its SHA-256 (under metaSHA256) and the given user metadata.
// Values are MIME-word encoded where they are not plain ASCII, since S3 metadata travels
// in HTTP headers; Get decodes them.
func (s *Store) Put(ctx context.Context, bucket, key string, data []byte, contentType string, meta map[string]string) error {
	_, err := s.client.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), putOptions(contentType, meta))
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	return nil
}

// ErrExists is returned (wrapped) by PutIfMatch when the object is not the version the
// caller read: someone else wrote it since.
var ErrExists = errors.New("object changed since it was read")

// PutIfAbsent stores data as Put does, but only if bucket/key does not exist yet (S3
// If-None-Match: *), so that what one writer stored is never replaced by another. created
// is false, with no error, when the object was there already: the caller reads it to see
// whose it is (a retried put of its own, whose first answer was lost, finds itself).
func (s *Store) PutIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string, meta map[string]string) (created bool, err error) {
	opts := putOptions(contentType, meta)
	opts.SetMatchETagExcept("*")
	_, err = s.client.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("put %s/%s if absent: %w", bucket, key, err)
	}
	return true, nil
}

// PutIfMatch replaces bucket/key with data only while it is still the version whose ETag
// the caller read (S3 If-Match); otherwise it returns ErrExists and stores nothing.
func (s *Store) PutIfMatch(ctx context.Context, bucket, key, etag string, data []byte, contentType string, meta map[string]string) error {
	opts := putOptions(contentType, meta)
	opts.SetMatchETag(etag)
	_, err := s.client.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if conditionFailed(err) {
		return fmt.Errorf("put %s/%s if unchanged: %w", bucket, key, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("put %s/%s if unchanged: %w", bucket, key, err)
	}
	return nil
}

// conditionFailed reports a conditional write refused: 412, or 409 when another
// conditional write of the same key was in progress at that moment.
func conditionFailed(err error) bool {
	if err == nil {
		return false
	}
	r := minio.ToErrorResponse(err)
	return r.Code == minio.PreconditionFailed || r.StatusCode == http.StatusPreconditionFailed ||
		r.Code == "ConditionalRequestConflict"
}

func putOptions(contentType string, meta map[string]string) minio.PutObjectOptions {
	um := make(map[string]string, len(meta))
	for k, v := range meta {
		um[k] = mime.QEncoding.Encode("utf-8", v)
	}
	return minio.PutObjectOptions{
		ContentType:  contentType,
		UserMetadata: um,
		// Let S3 verify the upload end to end as well: a corrupted body is refused.
		SendContentMd5: true,
	}
}

// ErrNotFound is returned (wrapped) by Get and Stat when the object does not exist.
var ErrNotFound = errors.New("object not found")

// MaxGetBytes bounds a whole-object read; pipeline objects are scans and texts, not archives.
const MaxGetBytes = 1 << 30

// Get reads a whole object. An object the store holds but cannot read back, while it serves
// reads otherwise, is ErrUnreadable (health.go); any other failure may pass.
func (s *Store) Get(ctx context.Context, bucket, key string) (Object, error) {
	obj, err := get(ctx, s.client, bucket, key)
	if err == nil || !objectFault(err) {
		return obj, err
	}
	return s.unreadable(ctx, bucket, key, err)
}

func get(ctx context.Context, client *minio.Client, bucket, key string) (Object, error) {
	obj, err := client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return Object{}, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return Object{}, fmt.Errorf("get %s/%s: %w", bucket, key, notFound(err))
	}
	if info.Size > MaxGetBytes {
		return Object{}, fmt.Errorf("get %s/%s: %d bytes is over the %d limit", bucket, key, info.Size, MaxGetBytes)
	}
	data := make([]byte, 0, info.Size)
	buf := bytes.NewBuffer(data)
	if _, err := io.Copy(buf, obj); err != nil {
		return Object{}, fmt.Errorf("read %s/%s: %w", bucket, key, notFound(err))
	}
	return Object{Data: buf.Bytes(), ContentType: info.ContentType, ETag: info.ETag, Metadata: decodeMeta(info.UserMetadata)}, nil
}

// Info is what Stat tells about an object without reading it.
type Info struct {
	Size     int64
	Metadata map[string]string
}

// Stat reads an object's size and user metadata.
func (s *Store) Stat(ctx context.Context, bucket, key string) (Info, error) {
	info, err := s.client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("stat %s/%s: %w", bucket, key, notFound(err))
	}
	return Info{Size: info.Size, Metadata: decodeMeta(info.UserMetadata)}, nil
}

// List returns the keys under prefix, in lexical order.
func (s *Store) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	for obj := range s.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

func notFound(err error) error {
	if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" || code == "NoSuchVersion" {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// decodeMeta strips the X-Amz-Meta- prefix. It does not MIME-decode the values: minio-go
// already has (it decodes every user-metadata value starting with "=?", which is every value
// Put encoded), and decoding a second time would mangle a value whose text merely contains
// an encoded word.
func decodeMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.TrimPrefix(k, "X-Amz-Meta-")] = v
	}
	return out
}

// Ping checks that the endpoint answers and the credentials work.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.client.ListBuckets(ctx); err != nil {
		return fmt.Errorf("reach S3 at %s: %w", s.client.EndpointURL().Host, err)
	}
	return nil
}
