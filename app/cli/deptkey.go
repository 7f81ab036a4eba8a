package cli

import (
	"os"
)

// deptKeyName is the department index API key's name among the secrets
// (the platform keyring, else the 0600 secrets file beside the settings).
const deptKeyName = "department-index"

// DeptKey is the department index API key: $M3RET_WEAVIATE_API_KEY when
// set (scripts, the sync worker's service), else the one saved with
// SetDeptKey, else "" (a cluster without authentication).
func DeptKey() (string, error) {
	if k := os.Getenv("M3RET_WEAVIATE_API_KEY"); k != "" {
		return k, nil
	}
	st, err := LoadSettings()
	if err != nil || st.IndexKeyIn == "" {
		return "", err
	}
	return loadSecret(deptKeyName, st.IndexKeyIn)
}

// SetDeptKey saves the department index API key in the keyring (else the
// 0600 secrets file) and records where in the settings; "" forgets it.
func SetDeptKey(key string) (where string, err error) {
	st, err := LoadSettings()
	if err != nil {
		return "", err
	}
	st.IndexKeyIn = ""
	if key != "" {
		if where, err = storeSecret(deptKeyName, key); err != nil {
			return "", err
		}
		st.IndexKeyIn = where
	}
	return where, st.Save()
}
