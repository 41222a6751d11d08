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
