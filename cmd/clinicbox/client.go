package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

var clientCmd = subcommand("client", map[string]func(context.Context, env, []string) error{
	"create": clientCreate, "list": clientList, "revoke": clientRevoke,
})

// clientCreate issues instrument integrations API credentials. The secret
// is printed once and only its hash is stored.
func clientCreate(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("client create", e)
	data := fs.data()
	name := fs.FlagSet.String("name", "", "the vendor or software the client is for (required for instrument clients; default for poct: \"POCT integration\")")
	kind := fs.FlagSet.String("kind", "instrument", "instrument: instrument API client credentials; poct: a POCT API bearer token; fhir: OAuth2 client credentials for the FHIR R4, key-value, reporting and event APIs")
	scope := fs.FlagSet.String("scope", "", `fhir clients: the scopes it may ask for, space separated ("system/*.read kv.write")`)
	org := fs.org()
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	if *kind != "instrument" && *kind != "poct" && *kind != store.ClientKindFHIR {
		return fmt.Errorf("client create: --kind must be instrument, poct or fhir")
	}
	st, o, err := openOrg(ctx, e, *data, *org)
	if err != nil {
		return err
	}
	defer st.Close()
	if *kind == "poct" {
		n := *name
		if n == "" {
			n = "POCT integration"
		}
		ctx := store.WithActor(ctx, store.Actor{OrgID: o.ID, Name: "cli"})
		token, err := st.CreatePoctToken(ctx, o.ID, &store.PoctToken{Name: n})
		if err != nil {
			return userError(err)
		}
		fmt.Fprintf(e.stdout, "token=%s\n", token)
		fmt.Fprintf(e.stderr, "created POCT API token %q for %s; the token is shown only now\n", n, o.Slug)
		return nil
	}
	if *kind == store.ClientKindFHIR {
		return oauthClientCreate(ctx, e, st, o, *name, *scope)
	}
	c, secret, err := st.CreateInstrumentClient(ctx, o.ID, *name)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "clientID=%s\nclientSecret=%s\n", c.ClientID, secret)
	fmt.Fprintf(e.stderr, "created instrument API client %q for %s; the secret is shown only now\n", c.Name, o.Slug)
	return nil
}

func clientList(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("client list", e)
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.InstrumentClients(ctx, o.ID)
	if err != nil {
		return err
	}
	ocs, err := st.OAuthClients(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, c := range ocs {
		cs = append(cs, store.InstrumentClient{ClientID: c.ClientID, Name: c.Name + " [" + c.Kind + ": " + strings.Join(c.Scopes, " ") + "]",
			CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt, RevokedAt: c.RevokedAt})
	}
	t := newTable(e.stdout, "CLIENT ID", "NAME", "CREATED", "LAST USED", "STATE")
	for _, c := range cs {
		used, state := "never", "active"
		if !c.LastUsedAt.IsZero() {
			used = c.LastUsedAt.Local().Format("2006-01-02 15:04")
		}
		if c.Revoked() {
			state = "revoked " + c.RevokedAt.Local().Format("2006-01-02 15:04")
		}
		t.row(c.ClientID, c.Name, c.CreatedAt.Local().Format("2006-01-02 15:04"), used, state)
	}
	return t.flush()
}

func clientRevoke(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("client revoke", e)
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: clinicbox client revoke [--org SLUG] CLIENT_ID") }
	st, o, err := fs.openOrgWith(ctx, args, 1, "client revoke: name the CLIENT_ID")
	if err != nil {
		return err
	}
	defer st.Close()
	revoke := st.RevokeInstrumentClient
	if strings.HasPrefix(fs.Arg(0), "fc_") {
		revoke = st.RevokeOAuthClient
	}
	if err := revoke(ctx, o.ID, fs.Arg(0)); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "revoked %s: its tokens stop working now\n", fs.Arg(0))
	return nil
}

// oauthClientCreate issues OAuth2 client credentials for the FHIR, key-value,
// reporting and event APIs.
func oauthClientCreate(ctx context.Context, e env, st *store.Store, o *store.Org, name, scope string) error {
	if name == "" {
		name = "FHIR client"
	}
	c, secret, err := st.CreateOAuthClient(ctx, o.ID, store.ClientKindFHIR, name, store.ParseScopes(scope))
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "clientID=%s\nclientSecret=%s\n", c.ClientID, secret)
	fmt.Fprintf(e.stderr, "created %s client %q for %s with scopes %q; the secret is shown only now\n", c.Kind, c.Name, o.Slug, strings.Join(c.Scopes, " "))
	return nil
}
