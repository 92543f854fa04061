package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

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
	name := fs.FlagSet.String("name", "", "the vendor or software the client is for (required; default for poct: \"POCT integration\")")
	kind := fs.FlagSet.String("kind", "instrument", "instrument: instrument API client credentials; poct: a POCT API bearer token")
	org := fs.org()
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	if *kind != "instrument" && *kind != "poct" {
		return fmt.Errorf("client create: --kind must be instrument or poct")
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
	c, secret, err := st.CreateInstrumentClient(ctx, o.ID, *name)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "clientID=%s\nclientSecret=%s\n", c.ClientID, secret)
	fmt.Fprintf(e.stderr, "created instrument API client %q for %s; the secret is shown only now\n", c.Name, o.Slug)
	return nil
}

func clientList(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("client list", e)
	data := fs.data()
	org := fs.org()
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, o, err := openOrg(ctx, e, *data, *org)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.InstrumentClients(ctx, o.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tNAME\tCREATED\tLAST USED\tSTATE")
	for _, c := range cs {
		used, state := "never", "active"
		if !c.LastUsedAt.IsZero() {
			used = c.LastUsedAt.Local().Format("2006-01-02 15:04")
		}
		if c.Revoked() {
			state = "revoked " + c.RevokedAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ClientID, c.Name, c.CreatedAt.Local().Format("2006-01-02 15:04"), used, state)
	}
	return tw.Flush()
}

func clientRevoke(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("client revoke", e)
	data := fs.data()
	org := fs.org()
	fs.Usage = func() { fmt.Fprintln(e.stderr, "usage: clinicbox client revoke [--org SLUG] CLIENT_ID") }
	if err := fs.parse(args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("client revoke: name the CLIENT_ID")
	}
	st, o, err := openOrg(ctx, e, *data, *org)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RevokeInstrumentClient(ctx, o.ID, fs.Arg(0)); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "revoked %s: its tokens stop working now\n", fs.Arg(0))
	return nil
}
