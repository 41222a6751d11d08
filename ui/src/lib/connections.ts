import { useState } from "react";
import { useQuery, type QueryClient } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "./api";

const KEY = ["connections"];

/** The saved connections, shared by every screen that lists or picks them. */
export function useConnections() {
  return useQuery({ queryKey: KEY, queryFn: () => unwrap(commands.listConnections()) });
}

/** Reloads the list after something changed a connection. */
export function refreshConnections(client: QueryClient) {
  return client.invalidateQueries({ queryKey: KEY });
}

/** The connection a screen works on, remembered across screens. */
let remembered = "";

/** The chosen connection while it exists; the only one when there is just one. */
export function effectiveChoice(chosen: string, names: string[]): string {
  if (names.includes(chosen)) return chosen;
  return names.length === 1 ? names[0] : "";
}

export function useConnectionChoice(): [string, (name: string) => void] {
  const [name, setName] = useState(remembered);
  const names = (useConnections().data ?? []).map((c) => c.name);
  return [
    effectiveChoice(name, names),
    (n: string) => {
      remembered = n;
      setName(n);
    },
  ];
}
