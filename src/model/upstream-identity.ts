/** A person as the upstream knows them. `upstreamId` is stable and unique within the connector. */
export interface UpstreamIdentity {
  upstreamId: string;
  username: string;
  email?: string;
  name?: string;
  groups: string[];
  /** Extra claims mapped from upstream attributes. */
  claims?: Record<string, unknown>;
  /** Roles the upstream grants outright (local accounts' direct and mapped roles); others map `groups`. */
  roles?: string[];
}
