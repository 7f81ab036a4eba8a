package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Settings are the user's lasting choices, kept as JSON in the user config
// folder (see SettingsPath). Command-line flags override them.
type Settings struct {
	// ORTLib is the ONNX Runtime shared library to load ("" looks beside
	// the executable, then in the set-up's cache).
	ORTLib string `json:"ort_lib,omitempty"`
	// Provider forces an execution provider ("" or "auto": best available).
	Provider string `json:"provider,omitempty"`
	// Library is the library folder ("" is the default one).
	Library string `json:"library,omitempty"`
	// Model is an embedded model name or a path ("" is the default).
	Model string `json:"model,omitempty"`
	// Index is the department index searches use
	// (weaviate://HOST:PORT/COLLECTION); "" searches this library.
	Index string `json:"index,omitempty"`
	// IndexKeyIn says where the department index API key is kept
	// ("keyring" or "file"; "" for none): never in this file.
	IndexKeyIn string `json:"index_key_in,omitempty"`
}

// SettingsPath is $M3RET_SETTINGS, else <user config>/m3ret/settings.json.
func SettingsPath() string {
	if p := os.Getenv("M3RET_SETTINGS"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "m3ret", "settings.json")
}

// LoadSettings reads the settings; a missing file gives the defaults.
func LoadSettings() (Settings, error) {
	var s Settings
	p := SettingsPath()
	if p == "" {
		return s, nil
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("settings %s: %w", p, err)
	}
	return s, nil
}

// Save writes the settings atomically, readable by the user alone.
func (s Settings) Save() error {
	p := SettingsPath()
	if p == "" {
		return errors.New("no user config folder")
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(p, append(data, '\n'))
}

// writeFileSync replaces the file at p with data, readable by the user
// alone (its folder created, likewise): a temporary file synced to disk,
// renamed over p, and the folder synced, so that a crash leaves either the
// old file or the new.
func writeFileSync(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save %s: %w", filepath.Base(p), err)
	}
	if dir, err := os.Open(filepath.Dir(p)); err == nil {
		defer dir.Close()
		return dir.Sync()
	}
	return nil
}
