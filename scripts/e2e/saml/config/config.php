<?php
// SimpleSAMLphp configuration for Gatehouse's end-to-end tests.
//
// The test copies this directory layout into a temporary directory $D
// ($D/config, $D/metadata, $D/cert, ...) and starts `php -S` with
// SIMPLESAMLPHP_CONFIG_DIR=$D/config, and SSP_BASEURL=http://127.0.0.1:PORT/
// when it chose PORT; without it (php -S on port 0, a free port) the base URL
// names the port the server listens on (never the client's Host header).
// Every setting not named here keeps SimpleSAMLphp's default.
$D = dirname(__DIR__);
$config = [
    'baseurlpath' => getenv('SSP_BASEURL') ?: 'http://127.0.0.1:' . ($_SERVER['SERVER_PORT'] ?? '24400') . '/',
    'certdir' => "$D/cert/",
    'loggingdir' => "$D/log/",
    'datadir' => "$D/data/",
    'tempdir' => "$D/tmp",
    'metadatadir' => "$D/metadata/",
    'secretsalt' => 'gatehouse-test-salt',
    'auth.adminpassword' => 'admin',
    'technicalcontact_email' => 'na@example.com',
    'timezone' => 'UTC',
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.level' => SimpleSAML\Logger::INFO,
    'enable.saml20-idp' => true,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'session.cookie.secure' => false,
    'store.type' => 'phpsession',
    // The hosted IdP comes from metadata/saml20-idp-hosted.php; the SP from
    // metadata/sp.xml, which the test writes and SimpleSAMLphp re-reads per request.
    'metadata.sources' => [
        ['type' => 'flatfile'],
        ['type' => 'xml', 'file' => "$D/metadata/sp.xml"],
    ],
];
