import ControllerCore
import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesModels
import KarbonetesSignalClient

/// The informer's cache of managed Jobs, as the reconciler reads it. The informer must be
/// made with the ``HeldJobs/index`` indexer.
struct InformerJobCache: JobCache {
    let informer: Informer<Job>
    func job(_ key: ObjectKey) -> Job? { informer.cache.get(key) }
    func heldJobs() -> [Job] { informer.cache.byIndex(HeldJobs.indexName, HeldJobs.indexValue) }
}

/// A written Job's answer read for its resourceVersion only: a release needs nothing else of
/// it, and decoding the whole `Job` (spec, template, affinity), or even its `ObjectMeta`
/// (annotations, labels), was a large part of each release's CPU (perf, bench-controller).
struct WrittenVersion: Codable, Sendable {
    struct Metadata: Codable, Sendable {
        var resourceVersion: String?
    }

    var metadata: Metadata?
}

/// Writes through the API server, mapping its answers onto what the reconciler acts on.
struct KubeJobWriter: JobWriter {
    let client: KubeClient

    func patch(_ key: ObjectKey, _ operations: [JSONPatchOperation]) async throws(JobWriteError) -> String? {
        do {
            return try await client.patch(WrittenVersion.self, .jobs, namespace: key.namespace, name: key.name, patch: .json(operations))
                .metadata?.resourceVersion
        } catch {
            throw Self.classify(error, key: key)
        }
    }

    func fetch(_ key: ObjectKey) async throws(JobWriteError) -> Job? {
        do {
            return try await client.get(Job.self, .jobs, namespace: key.namespace, name: key.name)
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        } catch {
            throw Self.classify(error, key: key)
        }
    }

    static func classify(_ error: any Error, key: ObjectKey) -> JobWriteError {
        guard let api = error as? KubeAPIError else { return JobWriteError(kind: .transient, key: key, message: "\(error)") }
        let kind: JobWriteError.Kind
        if api.isNotFound {
            kind = .notFound
        } else if api.isConflict || (api.isInvalid && api.message.contains("test")) {
            kind = .conflict
        } else if api.isServerError || api.isTooManyRequests || api.code == 408 {
            kind = .transient
        } else {
            kind = .rejected
        }
        return JobWriteError(kind: kind, key: key, message: api.description)
    }
}

/// The shared signal cache, as the reconciler reads it.
struct CachedSignalProvider: SignalProvider {
    let cache: CachedSignal
    func reading(region: String) async -> SignalReading { await cache.reading(region: region) }
    func forecast(region: String) async -> [ForecastPoint]? { await cache.forecast(region: region) }
}

/// Events through the shared recorder: buffered (the reconciler never waits on the API
/// server for an Event) and aggregated (a repeat patches `count`).
struct RecorderEventSink: EventSink {
    let recorder: EventRecorder
    func record(_ job: Job, type: EventType, reason: String, message: String) async {
        recorder.record(job, type: type, reason: reason, message: message)
    }
}
