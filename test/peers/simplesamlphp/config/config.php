<?php
// SimpleSAMLphp 1.19 (Debian) as a throw-away loopback IdP for Lock's tests; started by
// test/peers/simplesamlphp.ts with SSP_BASE (this instance's folder) and SSP_ORIGIN in the environment.
$base = getenv('SSP_BASE');
$config = [
    'baseurlpath' => getenv('SSP_ORIGIN') . '/simplesaml/',
    'certdir' => $base . '/cert/',
    'metadatadir' => $base . '/metadata/',
    'loggingdir' => $base . '/log/',
    'datadir' => $base . '/data/',
    'tempdir' => $base . '/tmp/',
    'technicalcontact_name' => 'Test',
    'technicalcontact_email' => 'test@example.org',
    'timezone' => 'UTC',
    'secretsalt' => 'lock-test-salt-not-for-production-0123456789',
    'auth.adminpassword' => 'not-used-' . bin2hex(random_bytes(8)),
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'showerrors' => true,
    'errorreporting' => false,
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'logging.level' => SimpleSAML\Logger::NOTICE,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => false],
    // Plain HTTP on loopback: cookies cannot be Secure.
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'session.phpsession.savepath' => $base . '/sessions',
    'language.cookie.secure' => false,
    'language.cookie.samesite' => null,
    'store.type' => 'phpsession',
    'metadata.sources' => [['type' => 'flatfile']],
    'trusted.url.domains' => [],
    'theme.use' => 'default',
    'usenewui' => false,
];
