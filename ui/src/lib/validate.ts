import { DEFAULT_CALLBACK_PORT } from "../bindings";

/** Inline checks for the New connection form, before anything is sent. */
export interface ConnectionDraft {
  name: string;
  environment: "production" | "sandbox" | "mydomain";
  myDomainUrl: string;
  clientId: string;
  clientSecret: string;
  callbackPort: string;
}

export type DraftErrors = Partial<Record<keyof ConnectionDraft, string>>;

export function validateDraft(d: ConnectionDraft, takenNames: string[]): DraftErrors {
  const errors: DraftErrors = {};
  const name = d.name.trim();
  if (!name) errors.name = "Give the connection a name.";
  else if (takenNames.some((n) => n.toLowerCase() === name.toLowerCase()))
    errors.name = `A connection named "${name}" exists already.`;
  if (d.environment === "mydomain") {
    const url = d.myDomainUrl.trim();
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    const local = parsed && ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
    if (!parsed) errors.myDomainUrl = "Enter the My Domain URL, like https://acme.my.salesforce.com.";
    else if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && local))
      errors.myDomainUrl = "The URL must start with https://.";
  }
  if (!d.clientId.trim()) errors.clientId = "Paste the connected app's consumer key.";
  else if (/\s/.test(d.clientId.trim())) errors.clientId = "A consumer key has no spaces.";
  const port = Number(d.callbackPort);
  if (!/^\d+$/.test(d.callbackPort.trim()) || port < 1024 || port > 65535)
    errors.callbackPort = `A port from 1024 to 65535, as in the callback URL (${DEFAULT_CALLBACK_PORT} by default).`;
  return errors;
}

/** What the form sends: `production`, `sandbox` or the URL. */
export function environmentOf(d: ConnectionDraft): string {
  return d.environment === "mydomain" ? d.myDomainUrl.trim() : d.environment;
}
