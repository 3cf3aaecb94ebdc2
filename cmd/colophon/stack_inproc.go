package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/workers/metadata"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// inprocStack is a throwaway deployment run by this process, for `soak --dev` and `bench`:
// an embedded NATS with JetStream and a MinIO child process on free loopback ports, with
// the dev keys, and OCR and metadata workers.
type inprocStack struct {
	cfg     config
	dataDir string
	stack   *devstack.Stack
	stop    func()
}

type inprocOptions struct {
	dataDir     string       // state directory; "" for a temporary one, removed by Stop
	concurrency int          // recognitions at once; 0 for one per CPU
	setEnv      bool         // point this process's COLOPHON_* variables at the stack, for openClient
	workerLog   *globals     // the workers' logging; nil for g's
	ocrOpts     []ocr.Option // more OCR worker options
	noOCR       bool         // run no OCR worker (a measurement starts its own)
}

// startInprocStack starts the stack and its workers; Stop ends them all.
func startInprocStack(ctx context.Context, g *globals, o inprocOptions) (_ *inprocStack, err error) {
	tmp := ""
	if o.dataDir == "" {
		if tmp, err = os.MkdirTemp("", "colophon-inproc-"); err != nil {
			return nil, err
		}
		o.dataDir = tmp
		defer func() {
			if err != nil {
				os.RemoveAll(tmp)
			}
		}()
	}
	if o.concurrency == 0 {
		o.concurrency = runtime.NumCPU()
	}
	if o.workerLog == nil {
		o.workerLog = g
	}
	cfg := config{AccessKey: devAccessKey, SecretKey: devSecretKey}
	stack, err := devstack.Start(ctx, devstack.Config{
		DataDir: o.dataDir, NATSURL: "nats://127.0.0.1:0", S3Endpoint: "http://127.0.0.1:0",
		AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey, MinIOBin: os.Getenv("COLOPHON_MINIO_BIN"), Logger: g.log,
	})
	if err != nil {
		return nil, err
	}
	cfg.NATSURL, cfg.S3Endpoint = stack.NATSURL, stack.S3Endpoint
	if o.setEnv {
		for k, v := range map[string]string{envNATSURL: cfg.NATSURL, envS3Endpoint: cfg.S3Endpoint, envAccessKey: cfg.AccessKey, envSecretKey: cfg.SecretKey} {
			os.Setenv(k, v)
		}
	}
	b, store, err := connect(ctx, o.workerLog, cfg, "colophon-inproc-workers", false)
	if err != nil {
		stack.Stop()
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	opts := append([]ocr.Option{ocr.WithConcurrency(o.concurrency)}, o.ocrOpts...)
	signer, err := loadSigner(o.workerLog, "", o.dataDir)
	if err != nil {
		cancel()
		b.Close()
		stack.Stop()
		return nil, err
	}
	if err := startWorkerSet(wctx, &wg, o.workerLog, b, store, []metadata.Option{metadata.WithSigner(signer)}, !o.noOCR, opts...); err != nil {
		cancel()
		b.Close()
		stack.Stop()
		return nil, err
	}
	return &inprocStack{cfg: cfg, dataDir: o.dataDir, stack: stack, stop: sync.OnceFunc(func() {
		cancel()
		wg.Wait()
		b.Close()
		_ = stack.Stop()
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	})}, nil
}

// Stop stops the workers, then NATS and MinIO, and removes a temporary state directory.
func (s *inprocStack) Stop() { s.stop() }

// MinIOPID is the MinIO child's process ID.
func (s *inprocStack) MinIOPID() int { return s.stack.MinIOPID() }

// Env is the environment for a colophon process of its own (a worker) to use the stack.
func (s *inprocStack) Env() []string {
	env := os.Environ()
	for k, v := range map[string]string{envNATSURL: s.cfg.NATSURL, envS3Endpoint: s.cfg.S3Endpoint, envAccessKey: s.cfg.AccessKey, envSecretKey: s.cfg.SecretKey} {
		env = append(env, k+"="+v)
	}
	if os.Getenv(provenance.EnvSigningKeyFile) == "" && os.Getenv(provenance.EnvSigningKey) == "" {
		env = append(env, provenance.EnvSigningKeyFile+"="+filepath.Join(s.dataDir, provenance.KeyFileName))
	}
	return env
}

// client connects a client of its own to the stack, as a separate command would.
func (s *inprocStack) client(ctx context.Context, g *globals, name string) (*client.Client, *bus.Bus, error) {
	b, store, err := connect(ctx, g, s.cfg, name, false)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(ctx, b, store)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return c, b, nil
}
