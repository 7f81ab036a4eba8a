package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/zalando/go-keyring"

	"github.com/m3ret/viewer/library/pacs"
)

// PACSServer is a server in the user's list, kept in pacs.json beside the
// settings file. Its secret (a password or a bearer token) is not in that
// file: it is in the platform's keyring (Secret Service on Linux, the
// Keychain on macOS, the Credential Manager on Windows) when there is one,
// else in pacs-secrets.json beside it, readable by the user alone.
type PACSServer struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	User     string `json:"user,omitempty"`   // HTTP basic user
	Bearer   bool   `json:"bearer,omitempty"` // the secret is a bearer token
	CAFile   string `json:"ca_file,omitempty"`
	SecretIn string `json:"secret_in,omitempty"` // "keyring", "file" or "" (no secret)
}

// ErrNoServer is returned for a server name that is not in the list.
var ErrNoServer = errors.New("no PACS server of that name (m3ret pacs list shows them)")

const keyringService = "m3ret-pacs"

func pacsPath(name string) string { return filepath.Join(filepath.Dir(SettingsPath()), name) }

// PACSServers returns the user's servers, by name.
func PACSServers() ([]PACSServer, error) {
	var list []PACSServer
	data, err := os.ReadFile(pacsPath("pacs.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &list)
	}
	if err != nil {
		return nil, fmt.Errorf("PACS list: %w", err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}

// AddPACSServer adds (or replaces) a server and stores its secret ("" for
// none). It is checked first: the URL parses, the CA file reads.
func AddPACSServer(s PACSServer, secret string) error {
	if s.Name == "" || strings.ContainsAny(s.Name, "/\\\x00") {
		return fmt.Errorf("PACS name %q: give a short name without slashes", s.Name)
	}
	if _, err := pacs.New(pacs.Config{Name: s.Name, URL: s.URL, CAFile: s.CAFile}); err != nil {
		return err
	}
	s.SecretIn = ""
	if secret != "" {
		where, err := storeSecret(s.Name, secret)
		if err != nil {
			return err
		}
		s.SecretIn = where
	}
	list, err := PACSServers()
	if err != nil {
		return err
	}
	kept := []PACSServer{s}
	for _, o := range list {
		if o.Name != s.Name {
			kept = append(kept, o)
		}
	}
	data, err := json.MarshalIndent(kept, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(pacsPath("pacs.json"), append(data, '\n'))
}

// OpenPACS makes a client for the server of this name.
func OpenPACS(name string) (*pacs.Client, error) {
	list, err := PACSServers()
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		if s.Name != name {
			continue
		}
		cfg := pacs.Config{Name: s.Name, URL: s.URL, User: s.User, CAFile: s.CAFile}
		if s.SecretIn != "" {
			secret, err := loadSecret(s.Name, s.SecretIn)
			if err != nil {
				return nil, err
			}
			if s.Bearer {
				cfg.Token = secret
			} else {
				cfg.Password = secret
			}
		}
		return pacs.New(cfg)
	}
	return nil, fmt.Errorf("%q: %w", name, ErrNoServer)
}

// useKeyring says whether to try the platform keyring (M3RET_NO_KEYRING=1
// keeps tests off a developer's own).
func useKeyring() bool { return os.Getenv("M3RET_NO_KEYRING") != "1" }

// storeSecret keeps a secret in the keyring, else in the 0600 file, and
// says where.
func storeSecret(name, secret string) (string, error) {
	if useKeyring() && keyring.Set(keyringService, name, secret) == nil {
		return "keyring", nil
	}
	secrets, err := readSecrets()
	if err != nil {
		return "", err
	}
	secrets[name] = secret
	data, err := json.MarshalIndent(secrets, "", "  ")
	if err != nil {
		return "", err
	}
	return "file", writeFileSync(pacsPath("pacs-secrets.json"), data)
}

func loadSecret(name, where string) (string, error) {
	if where == "keyring" {
		s, err := keyring.Get(keyringService, name)
		if err != nil {
			return "", fmt.Errorf("PACS %s: secret not in the keyring (add the server again): %w", name, err)
		}
		return s, nil
	}
	secrets, err := readSecrets()
	if err != nil {
		return "", err
	}
	s, ok := secrets[name]
	if !ok {
		return "", fmt.Errorf("PACS %s: secret missing from %s (add the server again)", name, pacsPath("pacs-secrets.json"))
	}
	return s, nil
}

func readSecrets() (map[string]string, error) {
	secrets := map[string]string{}
	data, err := os.ReadFile(pacsPath("pacs-secrets.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return secrets, nil
	}
	if err == nil {
		err = json.Unmarshal(data, &secrets)
	}
	if err != nil {
		return nil, fmt.Errorf("PACS secrets: %w", err)
	}
	return secrets, nil
}
