package main

import (
	"context"
	"fmt"
)

// linkingSecretCmd prints (and with --rotate first replaces) an
// organisation's context-aware linking secret: the shared secret an EHR uses
// to encrypt the ?arg= of /integrations/linking.
func linkingSecretCmd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("linking-secret", e)
	data := fs.data()
	org := fs.org()
	rotate := fs.FlagSet.Bool("rotate", false, "replace the secret with a new one first (links made with the old one stop working)")
	if err := fs.parse(args, 0); err != nil {
		return err
	}
	st, o, err := openOrg(ctx, e, *data, *org)
	if err != nil {
		return err
	}
	defer st.Close()
	secret := o.LinkingSecret
	if *rotate {
		if secret, err = st.RotateLinkingSecret(ctx, o.ID); err != nil {
			return fmt.Errorf("rotate linking secret: %w", err)
		}
		fmt.Fprintf(e.stderr, "rotated the linking secret of %s\n", o.Slug)
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}
