// Package integrations is the administration pages for the appliance's
// integrations: telehealth API keys, webhooks and their delivery log, the
// context-aware linking secret, locations and report presets.
package integrations
