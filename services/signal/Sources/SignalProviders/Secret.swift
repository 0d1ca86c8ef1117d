import Dispatch
import Foundation

/// Where a credential comes from: a file (a mounted Kubernetes Secret, re-read on every use so
/// rotation needs no restart) or an environment variable. The value is never logged, and no
/// error message contains it.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case environment(String)

    /// Reads the value, trimmed of surrounding whitespace, off the cooperative pool (file reads
    /// block).
    func read(environment: [String: String]) async throws -> String {
        switch self {
        case .environment(let name):
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw SecretError(source: self, reason: "the variable is not set or empty")
            }
            return value
        case .file(let path):
            return try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    do {
                        let data = try Data(contentsOf: URL(fileURLWithPath: path))
                        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(
                            in: .whitespacesAndNewlines)
                        guard !value.isEmpty else { throw SecretError(source: self, reason: "the file is empty") }
                        continuation.resume(returning: value)
                    } catch let error as SecretError {
                        continuation.resume(throwing: error)
                    } catch {
                        continuation.resume(throwing: SecretError(source: self, reason: "the file cannot be read"))
                    }
                }
            }
        }
    }

    /// Names the source, never the value.
    public var description: String {
        switch self {
        case .file(let path): "file \(path)"
        case .environment(let name): "environment variable \(name)"
        }
    }
}

/// A credential that could not be read, naming where it was looked for.
struct SecretError: Error, CustomStringConvertible {
    let source: SecretSource
    let reason: String

    var description: String { "credential from \(source): \(reason)" }
}
