<?php
// The SPs this IdP trusts: every Lock SP metadata document a test registered in $SSP_BASE/sp-metadata/
// (fetched from Lock's own /saml/<id>/metadata, so the ACS URL carries that Lock's random port), each
// with the IdP-side options of its <name>.json beside it (e.g. assertion.encryption, NameIDFormat).
foreach (glob(getenv('SSP_BASE') . '/sp-metadata/*.xml') as $file) {
    $options = [];
    $optionsFile = substr($file, 0, -4) . '.json';
    if (is_file($optionsFile)) {
        $options = json_decode(file_get_contents($optionsFile), true, 32, JSON_THROW_ON_ERROR);
    }
    foreach (\SimpleSAML\Metadata\SAMLParser::parseDescriptorsFile($file) as $entityId => $descriptor) {
        $sp = $descriptor->getMetadata20SP();
        if ($sp !== null) {
            $metadata[$entityId] = array_merge($sp, $options);
        }
    }
}
