module sigaudit.test/gojson

go 1.19
