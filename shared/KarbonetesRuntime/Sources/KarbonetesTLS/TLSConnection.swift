import CKarbonOpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// One TLS session as a state machine over two memory BIOs: ciphertext from the peer goes in
/// with ``receive(_:)``, ciphertext for the peer comes out of ``takeOutput()``, plaintext is read
/// and written in between. No socket inside, so two of these are tested against each other
/// with bytes alone, and the socket layer decides when to read and write.
///
/// Not thread-safe: one connection's I/O thread owns it.
package final class TLSConnection {
    package enum ReadResult: Equatable {
        case bytes(Int)
        /// The peer's data is not complete yet: feed more ciphertext.
        case wantRead
        /// The peer sent close_notify.
        case closed
    }

    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    /// The context is kept alive as long as the session, since a reload may drop the provider's
    /// reference while this connection is still open.
    private let context: TLSContext
    private let peer: String
    package private(set) var isHandshakeComplete = false

    /// - Parameters:
    ///   - serverName: for clients, the name sent as SNI (not for IP addresses) and verified.
    package init(context: TLSContext, serverName: String? = nil, peer: String) throws {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else { throw TLSError.contextSetup(openSSLErrors()) }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.contextSetup(openSSLErrors())
        }
        _ = karbon_BIO_set_mem_eof_return(input, -1)
        SSL_set_bio(ssl, input, output)
        self.ssl = ssl
        self.input = input
        self.output = output
        self.context = context
        self.peer = peer
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName, !serverName.isEmpty {
                if !Self.isIPAddress(serverName) { _ = karbon_SSL_set_tlsext_host_name(ssl, serverName) }
                if context.verifiesPeer { _ = SSL_set1_host(ssl, serverName) }
            }
        }
    }

    deinit { SSL_free(ssl) }

    /// Ciphertext that arrived from the peer.
    package func receive(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = BIO_write(input, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, Int(Int32.max))))
            if written <= 0 { break }
            offset += Int(written)
        }
    }

    package func receive(_ bytes: [UInt8]) { bytes.withUnsafeBytes { receive($0) } }

    /// Ciphertext waiting to be sent to the peer.
    package var hasOutput: Bool { BIO_ctrl_pending(output) > 0 }

    /// Ciphertext not yet processed, or plaintext already decrypted, so a read may succeed
    /// without waiting for the socket.
    package var hasBufferedInput: Bool { SSL_pending(ssl) > 0 || BIO_ctrl_pending(input) > 0 }

    /// Takes every byte waiting for the peer.
    package func takeOutput() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(output))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32(pending)) }
        if read < pending { bytes.removeLast(pending - max(Int(read), 0)) }
        return bytes
    }

    /// Advances the handshake; true once it is complete, false when it needs the peer's bytes
    /// (send ``takeOutput()`` first).
    package func handshake() throws -> Bool {
        if isHandshakeComplete { return true }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isHandshakeComplete = true
            return true
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return false }
        throw TLSError.handshakeFailed(peer: peer, reason: failureReason(error))
    }

    /// Decrypts into `buffer`.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> ReadResult {
        ERR_clear_error()
        var read = 0
        let result = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &read)
        if result == 1 { return .bytes(read) }
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wantRead
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: throw TLSError.connectionFailed(peer: peer, reason: failureReason(error))
        }
    }

    /// Encrypts all of `bytes` into the output (memory BIOs never refuse a write).
    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            var written = 0
            let result = SSL_write_ex(ssl, bytes.baseAddress! + offset, bytes.count - offset, &written)
            guard result == 1 else {
                throw TLSError.connectionFailed(peer: peer, reason: failureReason(SSL_get_error(ssl, result)))
            }
            offset += written
        }
    }

    /// Queues close_notify for the peer.
    package func close() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// `TLSv1.2` or `TLSv1.3`, once the handshake is done.
    package var negotiatedVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The subject of the certificate the peer presented, if any (client certificates).
    package var peerCertificateSubject: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        guard let name = X509_get_subject_name(certificate), let line = X509_NAME_oneline(name, nil, 0) else { return nil }
        defer { CRYPTO_free(line, #fileID, #line) }
        return String(cString: line)
    }

    private func failureReason(_ error: Int32) -> String {
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
            return "certificate verification failed: " + String(cString: text)
        }
        if error == SSL_ERROR_SYSCALL { return "unexpected end of stream" }
        return openSSLErrors()
    }

    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
