package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestAPIKeyCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{"CLINICBOX_DATA": data}
	if _, _, err := runCLI(t, env, "", "apikey", "create", "--name", "x"); err == nil || !strings.Contains(err.Error(), "no organisation") {
		t.Fatalf("create before any org: %v", err)
	}
	if _, _, err := runCLI(t, env, "", "org", "add", "--name", "North", "--slug", "north"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, env, "", "apikey", "create"); err == nil || !strings.Contains(err.Error(), "name: is required") {
		t.Fatalf("create without name: %v", err)
	}
	out, _, err := runCLI(t, env, "", "apikey", "create", "--name", "EHR bridge")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, "cbk_") || strings.Contains(key, " ") {
		t.Fatalf("last line is not the key alone: %q", key)
	}
	out, _, err = runCLI(t, env, "", "apikey", "list")
	if err != nil || !strings.Contains(out, "EHR bridge") || !strings.Contains(out, "active") || strings.Contains(out, key) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	check := func() error {
		// Not storetest: the CLI's own data directory, opened and closed between its runs.
		st, err := store.Open(context.Background(), filepath.Join(data, "clinicbox.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		_, err = st.APIKeyByToken(context.Background(), key)
		return err
	}
	if err := check(); err != nil {
		t.Fatalf("the printed key does not authenticate: %v", err)
	}
	if _, _, err := runCLI(t, env, "", "apikey", "revoke", "--id", "99"); err == nil {
		t.Fatal("revoke unknown id succeeded")
	}
	if _, _, err := runCLI(t, env, "", "apikey", "revoke", "--id", "x"); err == nil {
		t.Fatal("revoke bad id succeeded")
	}
	if _, _, err := runCLI(t, env, "", "apikey", "revoke", "--id", "1"); err != nil {
		t.Fatal(err)
	}
	if err := check(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key still authenticates: %v", err)
	}
	out, _, _ = runCLI(t, env, "", "apikey", "list", "--org", "north")
	if !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke: %s", out)
	}
}
