import ControllerCore
import Foundation
import KarbonetesControllerRuntime
import KarbonetesKubeClient
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesModels
import KarbonetesSignalClient

/// The work only the leader does: reconcile workers, waking regions that turned green, and
/// writing policy status. Runs until cancelled (leadership lost or shutdown).
struct LeaderWork: Sendable {
    let queue: WorkQueue<ObjectKey>
    let releaser: JobReleaser
    let jobs: Informer<Job>
    let policies: Informer<CarbonAwarePolicy>
    let signal: CachedSignal
    let client: KubeClient
    let workers: Int
    let pollInterval: Duration
    /// Marks reconciles as foreground work, for the Event recorder to wait on.
    let priority: WritePriority
    let logger: Logger

    func run() async throws {
        // Everything held is looked at once on taking over: a new leader trusts no timer of the old one.
        for key in jobs.cache.keys() { await queue.add(key) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask { await self.work() }
            }
            group.addTask { try await self.watchRegionsAndStatus() }
            try await group.next()
            group.cancelAll()
        }
    }

    private func work() async {
        while let key = await queue.get() {
            // Events wait while reconciles run, so they never compete with a burst of releases.
            priority.begin()
            let result = await releaser.reconcile(key)
            priority.end()
            switch result {
            case .done:
                await queue.forget(key)
            case .requeue(let after):
                await queue.forget(key)
                await queue.add(key, after: .milliseconds(Int64((after * 1000).rounded(.up))))
            case .retry(let reason):
                logger.warning("reconcile failed; retrying with backoff", metadata: ["job.key": key.description, "error": reason])
                await queue.addRateLimited(key)
            }
            await queue.done(key)
        }
    }

    private func watchRegionsAndStatus() async throws {
        var detector = GreenFlipDetector()
        let lookup = policies
        var releasedBefore = releaser.releasedCount
        while !Task.isCancelled {
            // One scan of the held index a poll, shared by the wake, the gauges and the status.
            let held = jobs.cache.byIndex(HeldJobs.indexName, HeldJobs.indexValue)
            for (region, keys) in HeldJobsByRegion.group(held, policies: lookup) {
                guard case .available(let current) = await signal.reading(region: region) else { continue }
                let greenNow = keys.first.flatMap(jobs.cache.get).map { PolicyResolver.resolve(job: $0, policies: lookup).policy.isGreen(current) } ?? current.green
                if detector.observe(region: region, green: greenNow) {
                    logger.info("region turned green; waking its held Jobs", metadata: ["signal.region": region, "jobs": String(keys.count)])
                    for key in keys { await queue.add(key) }
                }
            }
            releaser.updateHeldGauges(held: held)
            let releasedNow = releaser.releasedCount
            if releasedNow > releasedBefore {
                logger.info("released held Jobs", metadata: ["released": String(releasedNow - releasedBefore), "held": String(held.count)])
                releasedBefore = releasedNow
            }
            await writePolicyStatus(held: held)
            try await Task.sleep(for: pollInterval)
        }
    }

    private func writePolicyStatus(held: [Job]) async {
        let counts = PolicyStatus.heldCounts(held)
        for policy in policies.cache.list() {
            guard let patch = PolicyStatus.patch(for: policy, heldJobs: counts[policy.key] ?? 0, now: Date()) else { continue }
            do {
                _ = try await client.patch(
                    CarbonAwarePolicy.self, .carbonAwarePolicies, namespace: policy.metadata.namespace, name: policy.metadata.name ?? "",
                    patch: .merge(patch), subresource: "status")
            } catch {
                logger.warning("could not update CarbonAwarePolicy status", metadata: ["policy": policy.key.description, "error": "\(error)"])
            }
        }
    }
}

/// Runs the leader's work under leader election, or directly with `--leader-elect=false`.
struct LeadershipService: Service, CustomStringConvertible {
    let elector: LeaderElector?
    let work: LeaderWork

    var description: String { elector == nil ? "reconcilers" : "leader election" }

    func run() async throws {
        if let elector {
            try await elector.run { try await work.run() }
        } else {
            try await work.run()
        }
    }
}
