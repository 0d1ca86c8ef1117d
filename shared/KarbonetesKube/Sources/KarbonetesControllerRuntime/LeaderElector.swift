import Foundation
public import KarbonetesKubeClient
public import KarbonetesLogging
import KarbonetesModels
import Synchronization

/// Leader election timings and identity, with client-go's defaults.
public struct LeaderElectionConfiguration: Sendable, Hashable {
    public var leaseName: String
    public var namespace: String
    /// Unique per process (pod name plus a random suffix).
    public var identity: String
    /// How long a lease is good for after its last renewal, as other candidates see it.
    public var leaseDuration: Duration
    /// How long a leader keeps trying to renew before it stops leading; below `leaseDuration`,
    /// so that it stops before anyone else may take over.
    public var renewDeadline: Duration
    /// Between attempts to acquire or renew.
    public var retryPeriod: Duration
    /// Hand the lease back on graceful shutdown, so a successor takes over without waiting
    /// for it to expire.
    public var releaseOnCancel: Bool

    public init(
        leaseName: String, namespace: String, identity: String, leaseDuration: Duration = .seconds(15),
        renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2), releaseOnCancel: Bool = true
    ) {
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.releaseOnCancel = releaseOnCancel
    }
}

/// Why a leader stopped leading against its will.
public struct LeaderElectionError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case lostLease(Duration)
        case invalidConfiguration(String)
    }

    private let kind: Kind
    /// `namespace/name` of the Lease.
    public let lease: String
    public let identity: String

    private init(_ kind: Kind, lease: String, identity: String) {
        self.kind = kind
        self.lease = lease
        self.identity = identity
    }

    public static func lostLease(lease: String, identity: String, renewDeadline: Duration) -> LeaderElectionError {
        .init(.lostLease(renewDeadline), lease: lease, identity: identity)
    }

    public static func invalidConfiguration(lease: String, identity: String, _ problem: String) -> LeaderElectionError {
        .init(.invalidConfiguration(problem), lease: lease, identity: identity)
    }

    public var isLostLease: Bool { if case .lostLease = kind { true } else { false } }

    public var description: String {
        switch kind {
        case .lostLease(let deadline):
            "leader election: \(identity) could not renew lease \(lease) within its renew deadline of \(deadline); stopped leading"
        case .invalidConfiguration(let problem): "leader election for lease \(lease): \(problem)"
        }
    }
}

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection`:
/// candidates try every `retryPeriod`; a lease whose record has not changed for
/// `leaseDuration` (measured on our own clock from when we first saw that record, so clock skew
/// between nodes does not matter) may be taken; writes are full PUTs with the read
/// `resourceVersion`, so two candidates never both win.
///
/// A leader that cannot renew within `renewDeadline` cancels its leading work at once and
/// `run` throws ``LeaderElectionError``: the process should exit and start over, since its view
/// of the world may be stale. On graceful shutdown (cancellation) the lease is released.
public final class LeaderElector: Sendable {
    public let configuration: LeaderElectionConfiguration
    private let client: KubeClient
    private let clock: any KubeClock
    private let logger: Logger
    private let onLeadershipChange: (@Sendable (Bool) -> Void)?

    private struct State {
        var observedRecord: LeaseSpec?
        var observedTime: Date?
        var lastRenew: Date?
        var isLeader = false
        var leaseTransitions = 0
    }

    private let state = Mutex(State())

    /// Give it a client with its own rate limit (`client.withRateLimiter(nil)`): renewals that
    /// queue behind a busy controller's requests can miss the renew deadline.
    public init(
        client: KubeClient, configuration: LeaderElectionConfiguration, clock: any KubeClock = WallClock(), logger: Logger = .disabled,
        onLeadershipChange: (@Sendable (Bool) -> Void)? = nil
    ) {
        self.client = client
        self.configuration = configuration
        self.clock = clock
        self.logger = logger.with(["lease": "\(configuration.namespace)/\(configuration.leaseName)", "lease.identity": configuration.identity])
        self.onLeadershipChange = onLeadershipChange
    }

    public var isLeader: Bool { state.withLock { $0.isLeader } }

    /// Who holds the lease, as last read.
    public var observedLeader: String? { state.withLock { $0.observedRecord?.holderIdentity } }

    private var leaseName: String { "\(configuration.namespace)/\(configuration.leaseName)" }

    /// Waits to become leader, runs `leading` while leader, and returns when cancelled (after
    /// releasing the lease) or when `leading` returns. Throws ``LeaderElectionError`` when the
    /// lease could not be renewed in time (`leading` is cancelled first), or what `leading`
    /// throws.
    public func run(_ leading: @escaping @Sendable () async throws -> Void) async throws {
        guard configuration.renewDeadline < configuration.leaseDuration, configuration.retryPeriod < configuration.renewDeadline else {
            throw LeaderElectionError.invalidConfiguration(
                lease: leaseName, identity: configuration.identity, "needs retryPeriod < renewDeadline < leaseDuration")
        }
        guard try await acquire() else { return }
        defer { setLeader(false) }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await leading() }
                group.addTask { try await self.renewLoop() }
                group.addTask { try await self.watchRenewDeadline() }
                // The first child to finish decides: `leading` returned, or the deadline passed.
                try await group.next()
                group.cancelAll()
            }
        } catch let error as LeaderElectionError {
            logger.error("stopped leading", metadata: ["error": error.description])
            throw error
        } catch {
            if !(error is CancellationError) {
                await releaseDetached()
                throw error
            }
        }
        await releaseDetached()
    }

    // MARK: Acquiring and renewing

    /// Tries every `retryPeriod` until it holds the lease; false when cancelled first.
    private func acquire() async throws -> Bool {
        logger.info("waiting to acquire the lease")
        while !Task.isCancelled {
            if await attempt() {
                setLeader(true)
                logger.info("acquired the lease")
                return true
            }
            do {
                try await clock.sleep(for: configuration.retryPeriod)
            } catch {
                return false
            }
        }
        return false
    }

    private func renewLoop() async throws {
        while true {
            try await clock.sleep(for: configuration.retryPeriod)
            if await attempt() == false {
                logger.warning("could not renew the lease; retrying until the renew deadline")
            }
        }
    }

    /// Throws once `renewDeadline` has passed since the last successful renewal, whatever an
    /// attempt in flight is doing (a hung request must not keep a stale leader leading).
    private func watchRenewDeadline() async throws {
        while true {
            let last = state.withLock { $0.lastRenew } ?? clock.now()
            let deadline = last.addingTimeInterval(configuration.renewDeadline.timeInterval)
            if clock.now() >= deadline {
                setLeader(false)
                throw LeaderElectionError.lostLease(lease: leaseName, identity: configuration.identity, renewDeadline: configuration.renewDeadline)
            }
            try await clock.sleep(until: deadline)
        }
    }

    /// One acquire-or-renew round (client-go's `tryAcquireOrRenew`); false when someone else
    /// holds a live lease, a write conflicted, or the API server failed.
    private func attempt() async -> Bool {
        let now = clock.now()
        let timeout = configuration.renewDeadline
        let identity = configuration.identity
        do {
            let lease: Lease
            do {
                lease = try await client.get(Lease.self, .leases, namespace: configuration.namespace, name: configuration.leaseName, timeout: timeout)
            } catch let error as KubeAPIError where error.isNotFound {
                let spec = LeaseSpec(
                    holderIdentity: identity, leaseDurationSeconds: seconds(configuration.leaseDuration), acquireTime: MicroTime(now),
                    renewTime: MicroTime(now), leaseTransitions: 0)
                let created = try await client.create(
                    Lease(metadata: ObjectMeta(name: configuration.leaseName, namespace: configuration.namespace), spec: spec), .leases,
                    timeout: timeout)
                observe(created.spec, at: now, renewed: true)
                return true
            }
            let record = lease.spec ?? LeaseSpec()
            let observedTime = observe(record, at: now, renewed: false)
            let holder = record.holderIdentity ?? ""
            if !holder.isEmpty, holder != identity,
                observedTime.addingTimeInterval(configuration.leaseDuration.timeInterval) > now
            {
                return false
            }
            var spec = record
            if holder != identity {
                spec.acquireTime = MicroTime(now)
                spec.leaseTransitions = (record.leaseTransitions ?? 0) + 1
            }
            spec.holderIdentity = identity
            spec.leaseDurationSeconds = seconds(configuration.leaseDuration)
            spec.renewTime = MicroTime(now)
            var updated = lease
            updated.spec = spec
            let written = try await client.update(updated, .leases, timeout: timeout)
            observe(written.spec, at: now, renewed: true)
            return true
        } catch let error as KubeAPIError where error.isConflict || error.isAlreadyExists {
            logger.debug("lost a race for the lease", metadata: ["error": error.description])
            return false
        } catch {
            logger.warning("lease request failed", metadata: ["error": String(describing: error)])
            return false
        }
    }

    /// Records the lease as read or written; returns when we first saw this record.
    @discardableResult
    private func observe(_ record: LeaseSpec?, at now: Date, renewed: Bool) -> Date {
        state.withLock { state in
            if state.observedRecord != record || state.observedTime == nil {
                state.observedRecord = record
                state.observedTime = now
            }
            if renewed { state.lastRenew = now }
            return state.observedTime ?? now
        }
    }

    // MARK: Releasing

    /// Releases in a task of its own: the caller is being cancelled, and the release must
    /// still reach the API server (it is bounded by `renewDeadline`).
    private func releaseDetached() async {
        guard configuration.releaseOnCancel else { return }
        await Task { await self.release() }.value
    }

    /// Hands the lease back as client-go's ReleaseOnCancel does: holder cleared, duration 1 s,
    /// so the next candidate takes it at its next try.
    private func release() async {
        do {
            var lease = try await client.get(
                Lease.self, .leases, namespace: configuration.namespace, name: configuration.leaseName, timeout: configuration.renewDeadline)
            guard lease.spec?.holderIdentity == configuration.identity else { return }
            let now = clock.now()
            lease.spec = LeaseSpec(
                holderIdentity: "", leaseDurationSeconds: 1, acquireTime: MicroTime(now), renewTime: MicroTime(now),
                leaseTransitions: lease.spec?.leaseTransitions)
            _ = try await client.update(lease, .leases, timeout: configuration.renewDeadline)
            logger.info("released the lease")
        } catch {
            logger.warning("could not release the lease; a successor waits for it to expire", metadata: ["error": String(describing: error)])
        }
    }

    private func setLeader(_ leader: Bool) {
        let changed = state.withLock { state in
            defer { state.isLeader = leader }
            return state.isLeader != leader
        }
        if changed { onLeadershipChange?(leader) }
    }

    private func seconds(_ duration: Duration) -> Int { max(1, Int(duration.timeInterval.rounded(.up))) }
}
