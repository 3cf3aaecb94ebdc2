package tesseract

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Model is a model file a reading used, by content.
type Model struct {
	Name   string // e.g. "eng.traineddata"
	SHA256 string
	Bytes  int64
}

// modelHashes caches a model file's hash by path, size and modification time: a worker
// reads thousands of pages with the same model, and hashing it once is enough.
var modelHashes sync.Map // modelKey -> Model

type modelKey struct {
	path  string
	size  int64
	mtime int64
}

// Models hashes the model files of the engine's current languages (one traineddata file
// each, in the data directory the loaded instance reads), so a record can say exactly which
// model read a page.
func (e *Engine) Models() ([]Model, error) {
	if err := e.Load(); err != nil {
		return nil, err
	}
	var dir string
	e.do(func() { dir = e.datapath() })
	out := make([]Model, 0, len(e.langs))
	for _, l := range e.langs {
		m, err := hashModel(filepath.Join(dir, l+".traineddata"))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func hashModel(path string) (Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Model{}, fmt.Errorf("model file: %w", err)
	}
	key := modelKey{path, st.Size(), st.ModTime().UnixNano()}
	if m, ok := modelHashes.Load(key); ok {
		return m.(Model), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return Model{}, fmt.Errorf("model file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Model{}, fmt.Errorf("hash model file %s: %w", path, err)
	}
	m := Model{Name: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}
	modelHashes.Store(key, m)
	return m, nil
}
