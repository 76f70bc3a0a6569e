Write-Host "hello from sigaudit"
$x = 1
