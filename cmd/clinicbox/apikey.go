package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

var apikeyCmd = subcommand("apikey", map[string]func(context.Context, env, []string) error{
	"create": apikeyCreate, "list": apikeyList, "revoke": apikeyRevoke,
})

// apikeyCreate issues a telehealth API key. The key is printed once, alone
// on the last line, so scripts can take it with tail -n 1; it is not stored.
func apikeyCreate(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("apikey create", e)
	name := fs.FlagSet.String("name", "", "what the key is for, e.g. the integration's name (required)")
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	k := &store.APIKey{Name: *name}
	token, err := st.CreateAPIKey(ctx, o.ID, k)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "created API key %d (%s) for %s; it is shown only now, store it safely:\n", k.ID, k.Name, o.Slug)
	fmt.Fprintln(e.stdout, token)
	return nil
}

func apikeyList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("apikey list", e)
	data := fs.data()
	org := fs.FlagSet.String("org", "", "only this organisation's keys")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, err := openStore(ctx, *data, newLogger(e.stderr, "text"))
	if err != nil {
		return err
	}
	defer st.Close()
	var orgID int64
	if *org != "" {
		o, err := st.OrgBySlug(ctx, *org)
		if err != nil {
			return userError(err)
		}
		orgID = o.ID
	}
	orgs, err := st.Orgs(ctx)
	if err != nil {
		return err
	}
	slugs := map[int64]string{}
	for _, o := range orgs {
		slugs[o.ID] = o.Slug
	}
	keys, err := st.APIKeys(ctx, orgID)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "ID\tORG\tNAME\tPREFIX\tCREATED\tLAST USED\tSTATUS")
	for _, k := range keys {
		status := "active"
		if k.Revoked() {
			status = "revoked " + k.RevokedAt.Format(time.RFC3339)
		}
		last := "never"
		if !k.LastUsedAt.IsZero() {
			last = k.LastUsedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, slugs[k.OrgID], k.Name, k.Prefix,
			k.CreatedAt.Format(time.RFC3339), last, status)
	}
	return nil
}

func apikeyRevoke(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("apikey revoke", e)
	data := fs.data()
	idStr := fs.FlagSet.String("id", "", "id of the key to revoke, as apikey list shows it (required)")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	id, err := strconv.ParseInt(*idStr, 10, 64)
	if err != nil || id <= 0 {
		return errors.New("apikey revoke: --id must be a key id (see apikey list)")
	}
	st, err := openStore(ctx, *data, newLogger(e.stderr, "text"))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RevokeAPIKey(ctx, 0, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("apikey revoke: there is no key %d", id)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "revoked API key %d\n", id)
	return nil
}
