import CKarbonOpenSSL
import Foundation
public import KarbonetesLogging
import Synchronization

/// Hands out the server's current TLS context and rebuilds it when the certificate, key or
/// client CA file changes, checking at most once a second (on new connections).
///
/// A reload that fails (a rotation caught half-written, a key that does not match yet) keeps
/// the previous context and is retried at the next check, so a bad moment during rotation
/// never takes the server down. Open connections keep the context they started with.
public final class TLSServerContextProvider: Sendable {
    private struct FileFingerprint: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    private struct State: Sendable {
        var context: TLSContext
        var fingerprints: [FileFingerprint?]
        var lastCheck: ContinuousClock.Instant
        var reloadCount: Int
    }

    public let configuration: TLSServerConfiguration
    private let checkInterval: Duration
    private let logger: Logger
    private let state: Mutex<State>

    public init(configuration: TLSServerConfiguration, checkInterval: Duration = .seconds(1), logger: Logger = .disabled) throws {
        self.configuration = configuration
        self.checkInterval = checkInterval
        self.logger = logger
        let fingerprints = Self.fingerprints(configuration)
        let context = try TLSContext.server(configuration)
        state = Mutex(State(context: context, fingerprints: fingerprints, lastCheck: .now, reloadCount: 0))
    }

    /// How many times the files were reloaded since start, for tests and metrics.
    public var reloadCount: Int { state.withLock { $0.reloadCount } }

    package func currentContext() -> TLSContext {
        let now = ContinuousClock.now
        let (context, due) = state.withLock { state -> (TLSContext, [FileFingerprint?]?) in
            guard now - state.lastCheck >= checkInterval else { return (state.context, nil) }
            state.lastCheck = now
            let current = Self.fingerprints(configuration)
            return current == state.fingerprints ? (state.context, nil) : (state.context, current)
        }
        guard let fingerprints = due else { return context }
        do {
            let fresh = try TLSContext.server(configuration)
            state.withLock {
                $0.context = fresh
                $0.fingerprints = fingerprints
                $0.reloadCount += 1
            }
            logger.info("TLS certificate reloaded", metadata: ["tls.certificate_file": configuration.certificateFile])
            return fresh
        } catch {
            logger.warning(
                "TLS certificate reload failed; keeping the previous one",
                metadata: ["tls.certificate_file": configuration.certificateFile, "error": "\(error)"]
            )
            return context
        }
    }

    private static func fingerprints(_ configuration: TLSServerConfiguration) -> [FileFingerprint?] {
        [configuration.certificateFile, configuration.keyFile, configuration.clientCAFile].map { path in
            guard let path else { return nil }
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return FileFingerprint(
                device: UInt64(info.st_dev),
                inode: UInt64(info.st_ino),
                size: Int64(info.st_size),
                modifiedSeconds: info.st_mtim.tv_sec,
                modifiedNanoseconds: info.st_mtim.tv_nsec
            )
        }
    }
}
