// The one hook every publish ends in: "an update was committed". The site renderer and outbox workers listen here.

export interface Publication {
  /** What changed: an incident or maintenance update, a postmortem, or the component catalogue. */
  kind: 'incident' | 'maintenance' | 'postmortem' | 'component';
  subjectId: string;
  updateId?: string | undefined;
  /** Whether anything public changed; a SEV3/SEV4 update changes only the internal page. */
  public: boolean;
  at: Date;
}

type PublishListener = (publication: Publication) => void | Promise<void>;

export interface PublishHook {
  subscribe(listener: PublishListener): () => void;
  /** Called after the transaction commits; listeners run in the background and never fail the request. */
  emit(publication: Publication): void;
}

export function createPublishHook(log: (message: string) => void = console.error): PublishHook {
  const listeners = new Set<PublishListener>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(publication) {
      for (const listener of listeners) {
        Promise.resolve()
          .then(() => listener(publication))
          .catch((e: unknown) => log(`publish listener failed: ${e instanceof Error ? e.message : String(e)}`));
      }
    },
  };
}
