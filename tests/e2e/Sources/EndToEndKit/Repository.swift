public import Foundation

/// Where the repository and the executables under test are. The suite runs the debug builds
/// each package's `swift test`/`swift build` leaves in `<package>/.build/debug/`, or the
/// folder `KARBONETES_E2E_BIN_DIR` names (for example `bin/` after `make build`).
public enum Repository {
    /// The checkout's root, found from this file's place in it (tests/e2e/Sources/EndToEndKit).
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { url.deleteLastPathComponent() }
        return url
    }()

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// The executables and the package that builds each one.
    public enum Executable: String, Sendable, CaseIterable {
        case devapi = "karbonetes-devapi"
        case signal = "karbonetes-signal"
        case webhook = "karbonetes-webhook"
        case controller = "karbonetes-controller"

        public var package: String {
            switch self {
            case .devapi: return "shared/KarbonetesDevAPI"
            case .signal: return "services/signal"
            case .webhook: return "services/webhook"
            case .controller: return "services/controller"
            }
        }
    }

    public static func executable(
        _ executable: Executable, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let directory = environment["KARBONETES_E2E_BIN_DIR"], !directory.isEmpty {
            return URL(fileURLWithPath: directory).appendingPathComponent(executable.rawValue).path
        }
        return path("\(executable.package)/.build/debug/\(executable.rawValue)")
    }
}
