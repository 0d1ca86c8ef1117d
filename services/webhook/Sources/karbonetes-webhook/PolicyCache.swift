import Foundation
import KarbonetesKubeClient
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesModels
import Synchronization

/// CarbonAwarePolicies kept in memory so admission never calls the API server per request.
///
/// Level-based: every `resync` it lists all policies (paged) and replaces the cache whole, so a
/// missed change is corrected at the next list. This is the webhook's interim source until it
/// moves to the shared informer in KarbonetesControllerRuntime (list + watch), which makes
/// changes visible at once instead of within `resync`.
final class PolicyCache: PolicyLookup, Service, CustomStringConvertible {
    private let client: KubeClient
    private let resync: Duration
    private let logger: Logger
    private let state = Mutex<(policies: [ObjectKey: CarbonAwarePolicy], synced: Bool)>(([:], false))

    init(client: KubeClient, resync: Duration, logger: Logger) {
        self.client = client
        self.resync = resync
        self.logger = logger
    }

    var description: String { "CarbonAwarePolicy cache" }

    func policy(namespace: String, name: String) -> CarbonAwarePolicy? {
        state.withLock { $0.policies[ObjectKey(namespace: namespace, name: name)] }
    }

    var isSynced: Bool { state.withLock { $0.synced } }

    func run() async throws {
        var failures = 0
        while !Task.isCancelled {
            do {
                let list = try await client.listAll(CarbonAwarePolicy.self, .carbonAwarePolicies, options: ListOptions(limit: 500))
                var byKey: [ObjectKey: CarbonAwarePolicy] = [:]
                for policy in list.items { byKey[policy.key] = policy }
                state.withLock { $0 = (byKey, true) }
                if failures > 0 { logger.notice("listing CarbonAwarePolicies works again", metadata: ["policies": String(byKey.count)]) }
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures % 30 == 0 {
                    logger.error("listing CarbonAwarePolicies failed; admissions use the last list", metadata: ["error": "\(error)", "failures": String(failures)])
                }
            }
            do {
                try await Task.sleep(for: failures == 0 ? resync : min(resync, .seconds(2)))
            } catch {
                return
            }
        }
    }
}
