package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

func TestClientCreateFHIR(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	env := map[string]string{"CLINICBOX_DATA": data}
	if _, _, err := runCLI(t, env, "", "org", "add", "--name", "North", "--slug", "north"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"client", "create", "--kind", "fhir"},                              // no scope
		{"client", "create", "--kind", "fhir", "--scope", "launch/patient"}, // unknown scope
		{"client", "create", "--kind", "robot", "--name", "x"},
	} {
		if _, _, err := runCLI(t, env, "", bad...); err == nil {
			t.Errorf("%v succeeded", bad)
		}
	}
	out, _, err := runCLI(t, env, "", "client", "create", "--kind", "fhir", "--scope", "system/*.read kv.write", "--org", "north")
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if v, ok := strings.CutPrefix(l, "clientID="); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(l, "clientSecret="); ok {
			secret = v
		}
	}
	if !strings.HasPrefix(id, "fc_") || len(secret) < 40 {
		t.Fatalf("output %q", out)
	}
	// Not storetest: the CLI's own data directory, closed again before it runs.
	st, err := store.Open(context.Background(), filepath.Join(data, "clinicbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, g, err := st.IssueOAuthToken(context.Background(), id, secret, nil)
	st.Close()
	if err != nil || strings.Join(g.Scopes, " ") != "system/*.read kv.write" {
		t.Fatalf("the printed credentials: %v %v", err, g)
	}
	out, _, err = runCLI(t, env, "", "client", "list")
	if err != nil || !strings.Contains(out, id) || strings.Contains(out, secret) {
		t.Fatalf("list: %v %s", err, out)
	}
	if _, _, err := runCLI(t, env, "", "client", "revoke", id); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCLI(t, env, "", "client", "list")
	if !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke: %s", out)
	}
}
