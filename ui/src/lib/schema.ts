import { useQuery } from "@tanstack/react-query";
import { commands } from "../bindings";
import { unwrap } from "./api";

// An org's schema rarely changes while a screen is open.
const STALE_MS = 5 * 60_000;

/** The org's objects, shared by the Schema screen and SOQL completion. */
export function useObjects(connection: string) {
  return useQuery({
    queryKey: ["objects", connection],
    queryFn: () => unwrap(commands.listObjects(connection)),
    enabled: !!connection,
    staleTime: STALE_MS,
  });
}

/** One object's fields; idle until an object is chosen. */
export function useDescribe(connection: string, object: string | null | undefined) {
  return useQuery({
    queryKey: ["describe", connection, object],
    queryFn: () => unwrap(commands.describeObject(connection, object!)),
    enabled: !!connection && !!object,
    staleTime: STALE_MS,
  });
}
